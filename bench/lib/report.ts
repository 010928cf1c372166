/** Percentiles, the printed table, and the JSON file every bench leaves in bench-results/. */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from './proc.js';

export interface Summary {
  n: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
}

/** Nearest-rank percentile of an ascending array. */
export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))] ?? NaN;
}

export function summarize(values: number[]): Summary {
  const sorted = [...values].sort((a, b) => a - b);
  const round = (v: number): number => Math.round(v * 1000) / 1000;
  const mean = sorted.length ? sorted.reduce((a, b) => a + b, 0) / sorted.length : NaN;
  return { n: sorted.length, p50: round(percentile(sorted, 50)), p90: round(percentile(sorted, 90)), p99: round(percentile(sorted, 99)), max: round(sorted.at(-1) ?? NaN), mean: round(mean) };
}

export interface Row {
  metric: string;
  value: string;
  target?: string;
  /** true = pass, false = miss, undefined = informational. */
  pass?: boolean | undefined;
}

export function fmt(v: number, digits = 1, unit = ''): string {
  return Number.isFinite(v) ? `${v.toFixed(digits)}${unit}` : 'n/a';
}

export function printTable(title: string, rows: Row[]): void {
  const cells = rows.map((r) => [r.metric, r.value, r.target ?? '', r.pass === undefined ? '' : r.pass ? 'PASS' : 'MISS']);
  const header = ['metric', 'value', 'target', 'result'];
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]?.length ?? 0)));
  const line = (c: string[]): string => '| ' + c.map((v, i) => v.padEnd(widths[i] ?? 0)).join(' | ') + ' |';
  console.log(`\n${title}`);
  console.log(line(header));
  console.log('|' + widths.map((w) => '-'.repeat(w + 2)).join('|') + '|');
  for (const c of cells) console.log(line(c));
}

export function machine(): Record<string, unknown> {
  // The load average shows whether something else shared the machine during the run.
  return { cpus: cpus().length, cpuModel: cpus()[0]?.model, memTotalGb: Math.round(totalmem() / 2 ** 30), node: process.version, platform: process.platform, loadAverage: loadavg() };
}

/** The commit the run measured, and whether the working tree differed from it (others edit concurrently). */
export function revision(): { commit: string; dirtyFiles: number } {
  const git = (args: string[]): string => spawnSync('git', args, { cwd: REPO_ROOT, encoding: 'utf8' }).stdout?.trim() ?? '';
  return { commit: git(['rev-parse', '--short', 'HEAD']) || 'unknown', dirtyFiles: git(['status', '--porcelain']).split('\n').filter(Boolean).length };
}

/** Writes bench-results/<name>-<stamp>.json and bench-results/<name>-latest.json; returns the first path. */
export function writeResults(name: string, data: unknown): string {
  const dir = join(REPO_ROOT, 'bench-results');
  mkdirSync(dir, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const text = JSON.stringify(data, null, 2) + '\n';
  const path = join(dir, `${name}-${stamp}.json`);
  writeFileSync(path, text);
  writeFileSync(join(dir, `${name}-latest.json`), text);
  return path;
}

export function envNumber(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const v = Number(raw);
  if (!Number.isFinite(v) || v < 0) throw new Error(`${name}=${raw} is not a non-negative number`);
  return v;
}
