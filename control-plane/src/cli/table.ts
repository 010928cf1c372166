/** Plain-text output: aligned tables and human times. */

/**
 * Device-reported strings (agent version, tags) end up on the user's terminal; drop control
 * characters so a device cannot inject escape sequences.
 */
export function printable(value: string): string {
  return value.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?');
}

/** Columns padded to their widest cell, two spaces apart, no trailing blanks. */
export function renderTable(headers: string[], rows: string[][]): string {
  const cells = [headers, ...rows.map((row) => row.map(printable))];
  const widths = headers.map((_, i) => Math.max(...cells.map((row) => (row[i] ?? '').length)));
  return cells
    .map((row) =>
      row
        .map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

function span(ms: number): string {
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m`;
  if (s < 48 * 3600) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86_400)}d`;
}

/** "12s ago", "3h ago", "in 23h"; "-" when there is no time. */
export function relativeTime(iso: string | null, now: number): string {
  if (iso === null) return '-';
  const at = Date.parse(iso);
  if (Number.isNaN(at)) return printable(iso);
  const diff = now - at;
  // A little clock skew between server and client should not read as the future.
  if (diff >= -5000 && diff < 1000) return 'just now';
  return diff > 0 ? `${span(diff)} ago` : `in ${span(-diff)}`;
}

export function list(values: string[]): string {
  return values.length > 0 ? values.join(',') : '-';
}

export function json(value: unknown): string {
  return JSON.stringify(value, null, 2) + '\n';
}

/**
 * What a command listing one device's things prints: the JSON (followed by a blank line, as ps and
 * containers always did), `empty` when there are none, else a table of `row` per item.
 */
export function listing<T>(items: T[], o: { json: boolean | undefined; empty: string; headers: string[]; row: (item: T) => string[] }): string {
  if (o.json) return json(items) + '\n';
  if (items.length === 0) return o.empty + '\n';
  return renderTable(o.headers, items.map(o.row)) + '\n';
}
