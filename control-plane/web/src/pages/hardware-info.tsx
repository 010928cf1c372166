import type { Info } from '@edgehook/shared';
import { duration } from '../lib/format.js';

type Flag = { now: boolean; past: boolean };
const FLAG_NAMES = { undervoltage: 'Under-voltage', freq_capped: 'Frequency capped', throttled: 'Throttled' } as const;
const FLAG_KEYS = ['undervoltage', 'freq_capped', 'throttled'] as const satisfies readonly (keyof typeof FLAG_NAMES)[];

function flagText(f: Flag): string {
  return f.now ? 'now' : f.past ? 'earlier since boot' : 'no';
}

/** PiKVM-style `/hardware/info` as facts an operator reads at a glance (raw values stay in the API). */
export function HardwareInfoFacts({ info, uptimeSec }: { info: Info; uptimeSec: number | undefined }) {
  const hw = info.hw;
  const sys = info.system;
  const temps = Object.entries(hw?.health.temp ?? {});
  const throttling = hw?.health.throttling;
  const flags = throttling ? FLAG_KEYS.map((k) => ({ key: k, name: FLAG_NAMES[k], flag: throttling.parsed_flags[k] })) : [];
  const worrying = flags.filter((f) => f.flag.now || f.flag.past);
  return (
    <dl class="facts" data-testid="hardware-info">
      <dt>Platform</dt>
      <dd>{hw ? `${hw.platform.type}${hw.platform.base ? ` (${hw.platform.base})` : ''}` : '–'}</dd>
      <dt>Board profile</dt>
      <dd>{hw?.platform.profile ?? '–'}</dd>
      <dt>Temperature</dt>
      <dd>
        {temps.length === 0 ? '–' : temps.map(([name, v]) => (
          <span key={name} class="tag" data-testid={`temp-${name}`}>{name}: {v === null ? 'unknown' : `${v.toFixed(1)} °C`}</span>
        ))}
      </dd>
      <dt>Throttling</dt>
      <dd data-testid="throttling" data-ok={throttling ? String(worrying.length === 0) : 'unknown'}>
        {!throttling ? 'not reported by this board' : worrying.length === 0 ? 'none (power and clock are fine)' : (
          <ul class="plain">
            {worrying.map((f) => (
              <li key={f.key} class={f.flag.now ? 'error' : ''}>{f.name}: {flagText(f.flag)}</li>
            ))}
          </ul>
        )}
        {throttling && <span class="muted"> (flags 0x{throttling.raw_flags.toString(16)})</span>}
      </dd>
      <dt>Kernel</dt>
      <dd>{sys ? `${sys.kernel.system} ${sys.kernel.release} (${sys.kernel.machine})` : '–'}</dd>
      <dt>Agent</dt>
      <dd>{sys ? `Edgehook ${sys.edgehook.agent}, Node.js ${sys.edgehook.node}` : '–'}</dd>
      <dt>Uptime</dt>
      <dd>{uptimeSec !== undefined ? duration(uptimeSec) : '–'}</dd>
    </dl>
  );
}
