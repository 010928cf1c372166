import type { HwSnapshot } from '@edgehook/shared';

/** Prometheus names allow [a-zA-Z0-9_:]; channel names may have '-' and '.'. */
function metricName(parts: string[]): string {
  return parts.join('_').replace(/[^a-zA-Z0-9_]/g, '_');
}

/** kvmd flattens nested health values into one gauge per leaf (pikvm_hw_temp_cpu ...). */
function flatten(prefix: string[], value: unknown, out: [string, number][]): void {
  if (typeof value === 'boolean') out.push([metricName(prefix), value ? 1 : 0]);
  else if (typeof value === 'number' && Number.isFinite(value)) out.push([metricName(prefix), value]);
  else if (value !== null && typeof value === 'object') for (const [k, v] of Object.entries(value)) flatten([...prefix, k], v, out);
}

const HELP: Array<[RegExp, string]> = [
  [/^pikvm_atx_enabled$/, 'ATX control is enabled (1) or not (0).'],
  [/^pikvm_atx_power$/, 'The power LED of the ATX-controlled host is on (1) or off (0).'],
  [/^pikvm_gpio_(input|output)_online_/, 'The GPIO channel is usable (1) or offline (0).'],
  [/^pikvm_gpio_(input|output)_state_/, 'The GPIO channel state: 1 high, 0 low.'],
  [/^pikvm_hid_online$/, 'The HID gadget is online (1) or not (0).'],
  [/^pikvm_hw_temp_/, 'Temperature of the sensor, degrees Celsius.'],
  [/^pikvm_hw_throttling_/, 'Raspberry Pi throttling flag (1 set, 0 clear) or the raw flag field.'],
];

/**
 * `/api/export/prometheus/metrics` as kvmd renders it: `# TYPE <name> gauge` then `<name> <value>`,
 * the same names; with `# HELP` lines too (kvmd has none; Prometheus' lint requires them, and a
 * scraper reading kvmd's output reads these the same way).
 */
export function prometheusMetrics(s: HwSnapshot): string {
  const rows: [string, number][] = [];
  flatten(['pikvm', 'atx', 'enabled'], s.atx.enabled, rows);
  flatten(['pikvm', 'atx', 'power'], s.atx.leds.power, rows);
  for (const [mode, channels] of [['input', s.gpio.inputs], ['output', s.gpio.outputs]] as const) {
    for (const name of Object.keys(channels).sort()) {
      const ch = channels[name];
      if (!ch) continue;
      flatten(['pikvm', 'gpio', mode, 'online', name], ch.online, rows);
      flatten(['pikvm', 'gpio', mode, 'state', name], ch.state, rows);
    }
  }
  flatten(['pikvm', 'hid', 'online'], s.hid.online, rows);
  if (s.info.hw) flatten(['pikvm', 'hw'], s.info.hw.health, rows);
  const help = (name: string) => HELP.find(([re]) => re.test(name))?.[1] ?? 'PiKVM health value.';
  return rows.map(([name, value]) => `# HELP ${name} ${help(name)}\n# TYPE ${name} gauge\n${name} ${value}\n`).join('\n');
}
