import { checkConfigValue, findConfigEntry, type ConfigClassDecl, type ReportedEntry } from '@edgehook/shared';
import { COLLECTOR_NAMES } from '../telemetry/collectors.js';
import type { TelemetrySettings } from '../telemetry/telemetry.js';

/**
 * The agent's own settings as a Perfkit config (scope `agent`): the telemetry base interval and
 * each collector's interval (0 = off), in seconds. The defaults are what the agent was started
 * with, so clearing nothing changes nothing.
 */
export function agentConfigClasses(start: TelemetrySettings): ConfigClassDecl[] {
  const secs = (ms: number | 'off' | undefined): number => (ms === 'off' ? 0 : Math.round((ms ?? start.intervalMs) / 1000));
  return [
    { name: 'telemetry', description: 'How often the agent collects and sends telemetry', entries: [{ name: 'interval_s', type: 'int', default: secs(start.intervalMs), min: 1, max: 3600, description: 'Seconds between telemetry batches (--telemetry-interval)' }] },
    {
      name: 'collectors',
      description: 'Per collector: seconds between readings (rounded to a multiple of the base interval); 0 switches it off',
      entries: COLLECTOR_NAMES.map((n) => ({ name: n, type: 'int' as const, default: secs(start.collectors[n]), min: 0, max: 3600, description: `The ${n} collector (--telemetry-collectors ${n}=...)` })),
    },
  ];
}

/** The settings the desired values ask for (undeclared or ill-typed entries are skipped), and what to report. */
export function settingsFromDesired(classes: readonly ConfigClassDecl[], start: TelemetrySettings, desired: readonly ReportedEntry[]): { settings: TelemetrySettings; reported: ReportedEntry[] } {
  const settings: TelemetrySettings = { intervalMs: start.intervalMs, collectors: { ...start.collectors } };
  const reported: ReportedEntry[] = [];
  for (const d of desired) {
    const decl = findConfigEntry(classes, d.key);
    if (!decl || checkConfigValue(decl, d.value) !== null || typeof d.value !== 'number') continue;
    const [cls, name] = d.key.split('.');
    if (cls === 'telemetry' && name === 'interval_s') settings.intervalMs = d.value * 1000;
    const collector = COLLECTOR_NAMES.find((n) => n === name);
    if (cls === 'collectors' && collector) settings.collectors[collector] = d.value === 0 ? 'off' : d.value * 1000;
    reported.push(d);
  }
  return { settings, reported };
}
