/**
 * The unit each built-in metric is reported in, and value formatting with SI prefixes, for the
 * CLI and the web console alike. No dependencies (the console bundles it): `@edgehook/shared/units`.
 */
export type MetricUnit = 'percent' | 'bytes' | 'bytes/s' | 'celsius' | 'seconds' | '';

export function metricUnit(metric: string): MetricUnit {
  if (/\.usage$/.test(metric)) return 'percent';
  if (/^(mem\.(used|free|buff_cache|available|total)|disk\.(used|free))$/.test(metric) || /(^|[._])bytes$/.test(metric)) return 'bytes';
  if (/_bps$/.test(metric)) return 'bytes/s';
  if (/^temp\./.test(metric)) return 'celsius';
  if (metric === 'uptime.seconds' || metric === 'vpn.handshake_age' || /_seconds$/.test(metric)) return 'seconds';
  return '';
}

const PREFIXES = ['', 'k', 'M', 'G', 'T', 'P', 'E'];

/** 12_345_678 -> "12.3M": three significant digits at most, SI (powers of 1000) prefixes. */
export function siNumber(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  const sign = v < 0 ? '-' : '';
  let x = Math.abs(v);
  let i = 0;
  while (x >= 999.5 && i < PREFIXES.length - 1) {
    x /= 1000;
    i++;
  }
  const digits = i === 0 && Number.isInteger(x) ? 0 : x >= 100 ? 0 : x >= 10 ? 1 : 2;
  const text = x.toFixed(digits).replace(/\.0+$|(\.\d*?)0+$/, '$1');
  return `${sign}${text}${PREFIXES[i]}`;
}

function seconds(v: number): string {
  const s = Math.abs(v);
  if (s < 60) return `${siNumber(v)} s`;
  if (s < 3600) return `${siNumber(v / 60)} min`;
  if (s < 86_400) return `${siNumber(v / 3600)} h`;
  return `${siNumber(v / 86_400)} d`;
}

/** A value with its unit: "45.2%", "1.23 GB", "12.3 kB/s", "48.5 °C", "3 h", "1.2k". */
export function formatMetricValue(unit: MetricUnit, v: number): string {
  switch (unit) {
    case 'percent':
      return `${siNumber(v)}%`;
    case 'bytes':
      return `${siNumber(v)}B`.replace(/^([-\d.]+)B$/, '$1 B').replace(/^([-\d.]+)([kMGTPE])B$/, '$1 $2B');
    case 'bytes/s':
      return formatMetricValue('bytes', v) + '/s';
    case 'celsius':
      return `${siNumber(v)} °C`;
    case 'seconds':
      return seconds(v);
    default:
      return siNumber(v);
  }
}

/** The axis title for a unit ("" for plain numbers). */
export function unitLabel(unit: MetricUnit): string {
  return { percent: '%', bytes: 'bytes', 'bytes/s': 'bytes per second', celsius: '°C', seconds: 'time', '': '' }[unit];
}

/**
 * Axis ticks: one SI prefix for the whole axis (from its largest value) and as many decimals as
 * the tick spacing needs, so neighbouring ticks never read the same ("99.9%, 99.9%").
 */
export function formatMetricTicks(unit: MetricUnit, splits: number[]): string[] {
  if (unit === 'seconds') return splits.map((v) => formatMetricValue(unit, v));
  const max = Math.max(0, ...splits.map((v) => Math.abs(v)).filter(Number.isFinite));
  let power = 0;
  while (max / 1000 ** power >= 999.5 && power < PREFIXES.length - 1) power++;
  const scale = 1000 ** power;
  const steps = splits.slice(1).map((v, i) => Math.abs(v - (splits[i] ?? v))).filter((d) => d > 0);
  const step = steps.length ? Math.min(...steps) / scale : 1;
  const decimals = Math.min(6, Math.max(0, Math.ceil(-Math.log10(step) - 1e-9)));
  const prefix = PREFIXES[power] ?? '';
  return splits.map((v) => {
    const n = (v / scale).toFixed(decimals);
    switch (unit) {
      case 'percent':
        return `${n}%`;
      case 'bytes':
        return `${n} ${prefix}B`;
      case 'bytes/s':
        return `${n} ${prefix}B/s`;
      case 'celsius':
        return `${n} °C`;
      default:
        return `${n}${prefix}`;
    }
  });
}
