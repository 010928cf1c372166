/** Shared text helpers of the telemetry commands: units by metric name, sparklines, CSV. */

const BARS = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

/** One character per value; gaps (null) are spaces. */
export function sparkline(values: Array<number | null>, width = 60): string {
  // Wider than the terminal line: average neighbouring values down to `width` cells.
  let cells = values;
  if (values.length > width) {
    cells = [];
    const per = values.length / width;
    for (let i = 0; i < width; i++) {
      const part = values.slice(Math.floor(i * per), Math.floor((i + 1) * per)).filter((v): v is number => v !== null);
      cells.push(part.length ? part.reduce((a, b) => a + b, 0) / part.length : null);
    }
  }
  const known = cells.filter((v): v is number => v !== null);
  if (known.length === 0) return '';
  const min = Math.min(...known);
  const max = Math.max(...known);
  return cells
    .map((v) => {
      if (v === null) return ' ';
      if (max === min) return BARS[3];
      return BARS[Math.min(BARS.length - 1, Math.floor(((v - min) / (max - min)) * BARS.length))];
    })
    .join('');
}

function bytes(v: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let x = Math.abs(v);
  let i = 0;
  while (x >= 1024 && i < units.length - 1) {
    x /= 1024;
    i++;
  }
  return `${v < 0 ? '-' : ''}${x >= 100 || i === 0 ? x.toFixed(0) : x.toFixed(1)} ${units[i]}`;
}

function plain(v: number): string {
  if (Number.isInteger(v)) return String(v);
  return Math.abs(v) >= 100 ? v.toFixed(1) : v.toFixed(2);
}

/** Values with the unit their metric name implies. */
export function formatValue(metric: string, v: number | null): string {
  if (v === null) return '-';
  if (/\.usage$/.test(metric)) return `${v.toFixed(1)}%`;
  if (/^(mem\.(used|free|buff_cache|available|total)|disk\.(used|free))$/.test(metric) || metric.endsWith('_bytes')) return bytes(v);
  if (metric.endsWith('_bps')) return `${bytes(v)}/s`;
  if (metric.startsWith('temp.')) return `${v.toFixed(1)} °C`;
  if (metric === 'uptime.seconds') {
    const d = Math.floor(v / 86_400);
    const h = Math.floor((v % 86_400) / 3600);
    const m = Math.floor((v % 3600) / 60);
    return d > 0 ? `${d}d ${h}h` : h > 0 ? `${h}h ${m}m` : `${m}m`;
  }
  return plain(v);
}

export function labelText(labels: Record<string, string>): string {
  const parts = Object.entries(labels).map(([k, v]) => `${k}=${v}`);
  return parts.length ? parts.join(',') : '-';
}

export function csvCell(v: string): string {
  return /[",\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

/** Short names people type for the headline metrics. */
export const METRIC_ALIASES: Record<string, string> = { cpu: 'cpu.usage', mem: 'mem.usage', memory: 'mem.usage', disk: 'disk.usage', temp: 'temp.max', load: 'load.1', uptime: 'uptime.seconds' };

export function metricName(value: string): string {
  return METRIC_ALIASES[value] ?? value;
}
