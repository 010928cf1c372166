import type { ParseArgsConfig } from 'node:util';
import { parseFlags } from '@edgehook/shared/argv';
import { DeviceView } from '@edgehook/shared';
import { openSession, type ApiClient } from './api-client.js';
import { HELP_OPTION, SERVER_OPTION, positionals, withUsage } from './args.js';
import type { Command, CommandContext } from './context.js';
import { UsageError } from './errors.js';

type Options = NonNullable<ParseArgsConfig['options']>;

/** `name` is required, `name?` optional, `name...` takes the rest (zero or more). */
type PositionalName<S extends string> = S extends `${infer N}...` ? N : S extends `${infer N}?` ? N : S;
type PositionalValue<S extends string> = S extends `${string}...` ? string[] : S extends `${string}?` ? string | undefined : string;
export type Positionals<P extends readonly string[]> = { [K in P[number] as PositionalName<K>]: PositionalValue<K> };

/**
 * What the command needs before it runs: `session` (the default) opens the logged-in API client
 * and adds `--server`; `device` also resolves `<device>`, for commands that print its name or
 * state (every other command sends the name-or-id as given: the server resolves it); `nothing`
 * opens nothing (login, logout, offline maintenance).
 */
export type Needs = 'session' | 'device' | 'nothing';

type Common<N extends Needs> = N extends 'nothing' ? { help: typeof HELP_OPTION } : { help: typeof HELP_OPTION; server: typeof SERVER_OPTION };
type Config<O extends Options, N extends Needs> = { args: string[]; options: Common<N> & O; strict: true; allowPositionals: true };
export type Values<O extends Options, N extends Needs = 'session'> = ReturnType<typeof parseFlags<Config<O, N>>>['values'];

type Opened<N extends Needs> = N extends 'nothing' ? object : N extends 'device' ? { api: ApiClient; device: DeviceView } : { api: ApiClient };

export interface Parsed<O extends Options, P extends readonly string[], N extends Needs> {
  values: Values<O, N>;
  args: Positionals<P>;
  ctx: CommandContext;
}

export type CommandInput<O extends Options, P extends readonly string[], N extends Needs, C> = Parsed<O, P, N> & { checked: C } & Opened<N>;

export interface CommandSpec<O extends Options, P extends readonly string[], N extends Needs, C> {
  name: string;
  summary: string;
  /** The whole `--help` text, also printed under every usage error. */
  usage: string;
  /** The command's own flags; `-h, --help` (and `--server` unless it needs nothing) are added. */
  options?: O;
  /** Positional names in order, e.g. `['device', 'port?']` or `['device', 'argv...']`. */
  positionals?: P;
  needs?: N;
  /**
   * The command's own checks of its flags and arguments (UsageError, exit 2), run before the session
   * opens, so a bad command line fails the same whether or not you are logged in; its result is `checked`.
   */
  check?: (input: Parsed<O, P, N>) => C | Promise<C>;
  run(input: CommandInput<O, P, N, C>): Promise<number>;
}

/** Parses the declared options strictly; `--since -1h` and `--count -1` take their values (see parseFlags). */
function parse<O extends Options, N extends Needs>(argv: string[], options: Common<N> & O, usage: string) {
  return withUsage(usage, () => parseFlags<Config<O, N>>({ args: argv, options, strict: true, allowPositionals: true }));
}

/** Names the given positionals after the declaration; too few or too many is a usage error (exit 2). */
export function namePositionals<P extends readonly string[]>(given: string[], declared: P, usage: string): Positionals<P> {
  const required = declared.filter((d) => !d.endsWith('?') && !d.endsWith('...'));
  const rest = declared.find((d) => d.endsWith('...'));
  const fixed = declared.filter((d) => !d.endsWith('...'));
  if (given.length < required.length) positionals(given, required, usage);
  if (rest === undefined && given.length > fixed.length) positionals(given, fixed, usage);
  const named: Record<string, string | string[] | undefined> = {};
  fixed.forEach((d, i) => (named[d.replace(/\?$/, '')] = given[i]));
  if (rest !== undefined) named[rest.slice(0, -3)] = given.slice(fixed.length);
  return build<P>(named);
}

// The record is filled from the declaration above, name for name: this only restates its type.
function build<P extends readonly string[]>(named: Record<string, string | string[] | undefined>): Positionals<P> {
  return named as Positionals<P>;
}

export function defineCommand<const O extends Options = Record<never, never>, const P extends readonly string[] = [], N extends Needs = 'session', C = undefined>(spec: CommandSpec<O, P, N, C>): Command {
  const needs: Needs = spec.needs ?? 'session';
  const common = needs === 'nothing' ? { help: HELP_OPTION } : { help: HELP_OPTION, server: SERVER_OPTION };
  return {
    name: spec.name,
    summary: spec.summary,
    usage: spec.usage,
    async run(argv, ctx) {
      // `common` is Common<N> for this `needs`; TypeScript cannot follow the conditional type here.
      const options = { ...common, ...spec.options } as Common<N> & O;
      const parsed = parse<O, N>(argv, options, spec.usage);
      if ('help' in parsed.values && parsed.values.help === true) {
        ctx.io.stdout(spec.usage + '\n');
        return 0;
      }
      const args = namePositionals(parsed.positionals, spec.positionals ?? [], spec.usage);
      const input: Parsed<O, P, N> = { values: parsed.values, args, ctx };
      const checked = await spec.check?.(input);
      // open() adds exactly what Opened<N> names for this `needs` (the same conditional as above).
      return spec.run((await open({ ...input, checked }, needs, ctx)) as CommandInput<O, P, N, C>);
    },
  };
}

async function open<B extends { values: object; args: object }>(base: B, needs: Needs, ctx: CommandContext): Promise<B & { api?: ApiClient; device?: DeviceView }> {
  if (needs === 'nothing') return base;
  const server = 'server' in base.values && typeof base.values.server === 'string' ? base.values.server : undefined;
  const api = await openSession(ctx, server);
  if (needs === 'session') return { ...base, api };
  const ref = 'device' in base.args && typeof base.args.device === 'string' ? base.args.device : '';
  return { ...base, api, device: await api.json(DeviceView, 'GET', `/api/devices/${encodeURIComponent(ref)}`) };
}

/** A command whose first word picks a subcommand, each with its own declaration and usage. */
export function commandGroup(group: { name: string; summary: string; usage: string; subcommands: Record<string, Command> }): Command {
  return {
    name: group.name,
    summary: group.summary,
    usage: group.usage,
    async run(argv, ctx) {
      const [sub, ...rest] = argv;
      if (sub === undefined) throw new UsageError('missing subcommand', group.usage);
      if (sub === '--help' || sub === '-h' || sub === 'help') {
        ctx.io.stdout(group.usage + '\n');
        return 0;
      }
      const found = Object.hasOwn(group.subcommands, sub) ? group.subcommands[sub] : undefined;
      if (!found) throw new UsageError(`unknown subcommand ${JSON.stringify(sub)}`, group.usage);
      return found.run(rest, ctx);
    },
  };
}
