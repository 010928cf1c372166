import { parseArgs, type ParseArgsConfig } from 'node:util';

type OptionTypes = NonNullable<ParseArgsConfig['options']>;

/**
 * util.parseArgs refuses `--since -1h` and `--count -1` ("argument is ambiguous"): a value that
 * starts with "-" must be written `--since=-1h`. Every program parses its flags through here, so
 * a string option always takes the next argument as its value, whatever it starts with, exactly
 * as `--since=-1h` would. Boolean flags, `--` and `--name=value` forms pass through unchanged.
 */
export function joinOptionValues(args: readonly string[], options: OptionTypes): string[] {
  const byShort = new Map<string, string>();
  for (const [name, o] of Object.entries(options)) if (o.short) byShort.set(o.short, name);
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? '';
    if (arg === '--') {
      out.push(...args.slice(i));
      break;
    }
    const long = /^--([^=]+)$/.exec(arg)?.[1];
    const name = long ?? (/^-([^-])$/.exec(arg)?.[1] !== undefined ? byShort.get(arg.slice(1)) : undefined);
    const next = args[i + 1];
    if (name !== undefined && options[name]?.type === 'string' && next !== undefined) {
      out.push(`--${name}=${next}`);
      i++;
    } else {
      out.push(arg);
    }
  }
  return out;
}

/** node's parseArgs over joinOptionValues(args): the one place every CLI flag is parsed. */
export function parseFlags<T extends ParseArgsConfig & { args: string[]; options: OptionTypes }>(config: T): ReturnType<typeof parseArgs<T>> {
  return parseArgs<T>({ ...config, args: joinOptionValues(config.args, config.options) });
}
