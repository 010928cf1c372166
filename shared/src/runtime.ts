/** Small runtime seams both programs pass through their `deps` object. */

export interface Clock {
  /** Wall-clock epoch milliseconds. */
  now(): number;
  /** Monotonic milliseconds, for durations. */
  monotonic(): number;
}

// From process.hrtime on Node, not performance.now(): the global `performance` loads all of
// perf_hooks (+0.3 MB of RSS for good), which the lean agent never uses. Browsers (the console) have no process.
const hasHrtime = typeof process !== 'undefined' && typeof process.hrtime === 'function';
const origin = hasHrtime ? process.hrtime() : undefined;

/** Monotonic milliseconds since this module loaded (about the process start, as performance.now()). */
export function monotonicMs(): number {
  if (!origin) return performance.now();
  const [s, ns] = process.hrtime(origin);
  return s * 1e3 + ns / 1e6;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  monotonic: monotonicMs,
};

const pad = (n: number, width: number): string => String(n).padStart(width, '0');

/**
 * `Date.prototype.toISOString` for years 0-9999, from the UTC getters. V8's toISOString sets up
 * ICU's local time zone on its first call (0.6-0.9 MB of ICU data and code paged in for good),
 * which a process that only ever prints UTC does not need: the lean agent's idle RSS (issue 12).
 */
export function isoTime(ms: number): string {
  const d = new Date(ms);
  const y = d.getUTCFullYear();
  // NaN and the six-digit years of toISOString's extended format: rare, so the builtin says them.
  if (!(y >= 0 && y <= 9999)) return d.toISOString();
  return `${pad(y, 4)}-${pad(d.getUTCMonth() + 1, 2)}-${pad(d.getUTCDate(), 2)}T${pad(d.getUTCHours(), 2)}:${pad(d.getUTCMinutes(), 2)}:${pad(d.getUTCSeconds(), 2)}.${pad(d.getUTCMilliseconds(), 3)}Z`;
}

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  child(fields: LogFields): Logger;
}

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface LoggerOptions {
  level: LogLevel;
  /** 'json' for machines (one object per line), 'pretty' for people. */
  format: 'json' | 'pretty';
  write?: (line: string) => void;
  base?: LogFields;
}

function errorFields(fields: LogFields): LogFields {
  const out: LogFields = {};
  // An absent field is left out, never printed as `error=undefined`.
  for (const [k, v] of Object.entries(fields)) if (v !== undefined) out[k] = v instanceof Error ? v.message : v;
  return out;
}

export function createLogger(opts: LoggerOptions): Logger {
  const write = opts.write ?? ((line: string) => process.stderr.write(line + '\n'));
  const base = opts.base ?? {};
  const emit = (level: LogLevel, msg: string, fields?: LogFields): void => {
    if (ORDER[level] < ORDER[opts.level]) return;
    const all = errorFields({ ...base, ...fields });
    if (opts.format === 'json') {
      write(JSON.stringify({ ts: isoTime(Date.now()), level, msg, ...all }));
    } else {
      const extra = Object.entries(all)
        .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
        .join(' ');
      write(`${isoTime(Date.now())} ${level.toUpperCase().padEnd(5)} ${msg}${extra ? ' ' + extra : ''}`);
    }
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    child: (fields) => createLogger({ ...opts, write, base: { ...base, ...fields } }),
  };
}

/** Exponential backoff with full jitter, capped: the delay before attempt `n` (0-based). */
export function backoffDelay(attempt: number, opts: { baseMs: number; maxMs: number }, random: () => number = Math.random): number {
  const ceiling = Math.min(opts.maxMs, opts.baseMs * 2 ** Math.min(attempt, 30));
  // Half fixed, half random: spreads a fleet's reconnects without ever retrying instantly.
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}
