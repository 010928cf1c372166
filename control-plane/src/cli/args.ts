import { UsageError } from './errors.js';

/** Every command answers `-h, --help`; every command that talks to a server takes `--server URL`. */
export const HELP_OPTION = { type: 'boolean', short: 'h' } as const;
export const SERVER_OPTION = { type: 'string' } as const;

const SERVER_HELP = 'the control plane (default: the one you logged in to) [EDGEHOOK_SERVER]';

/**
 * A command's help text with the lines every command ends with: `--server URL` (unless
 * `server: false`) and `-h, --help`, their descriptions aligned with the option line above them
 * (or at `column` when no option line comes before them).
 */
export function withCommonHelp(text: string, { server = true, column: given }: { server?: boolean; column?: number } = {}): string {
  const last = text.slice(text.lastIndexOf('\n') + 1);
  const column = given ?? /^ {2}\S+(?: \S+)*\s+(?=\S)/.exec(last)?.[0].length ?? 16;
  const line = (label: string, help: string): string => `${`  ${label}`.padEnd(column - 1)} ${help}`;
  return [text, ...(server ? [line('--server URL', SERVER_HELP)] : []), line('-h, --help', 'show this help')].join('\n');
}

/**
 * Runs node's parseArgs (strict) and turns its errors into a UsageError: exit 2, a short
 * message and the command's usage instead of the parser's long hint.
 */
export function withUsage<T>(usage: string, parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    const first = message.split('. ')[0] ?? message;
    throw new UsageError(first.charAt(0).toLowerCase() + first.slice(1), usage);
  }
}

/** Exactly the named positionals, or a usage error naming what is missing or extra. */
export function positionals(given: string[], names: string[], usage: string): string[] {
  if (given.length < names.length) throw new UsageError(`missing ${names.slice(given.length).map((n) => `<${n}>`).join(' ')}`, usage);
  if (given.length > names.length) throw new UsageError(`unexpected argument ${JSON.stringify(given[names.length])}`, usage);
  return given;
}

/** `flag` is a flag name (`count` → --count) or a positional written `<pid>`. */
export function positiveInt(flag: string, value: string, usage: string, max = 1_000_000): number {
  const name = flag.startsWith('<') ? flag : `--${flag}`;
  if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > max) throw new UsageError(`${name} must be a whole number from 1 to ${max}, got ${JSON.stringify(value)}`, usage);
  return Number(value);
}

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400, w: 604_800 };

/** `3600`, `45s`, `30m`, `1h`, `7d` or `2w` in seconds. */
export function durationSeconds(flag: string, value: string, usage: string): number {
  const m = /^(\d+)\s*([smhdw]?)$/i.exec(value.trim());
  const seconds = m ? Number(m[1]) * (UNIT_SECONDS[(m[2] || 's').toLowerCase()] ?? 1) : NaN;
  if (!Number.isSafeInteger(seconds) || seconds < 1) throw new UsageError(`--${flag} must be a duration like 30m, 1h, 7d or a number of seconds, got ${JSON.stringify(value)}`, usage);
  return seconds;
}

export function booleanWord(flag: string, value: string, usage: string): boolean {
  if (value === 'true') return true;
  if (value === 'false') return false;
  throw new UsageError(`--${flag} must be true or false, got ${JSON.stringify(value)}`, usage);
}
