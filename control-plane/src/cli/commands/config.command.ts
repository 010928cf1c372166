import * as z from '@edgehook/shared/zod';
import { AGENT_SCOPE, ConfigKey, ConfigScope, type ConfigsView } from '@edgehook/shared';
import { PerfkitRoutes as R } from '@edgehook/shared/rest';
import { withCommonHelp } from '../args.js';
import { defineCommand } from '../define-command.js';
import { CliError, UsageError } from '../errors.js';
import { json, renderTable } from '../table.js';

const USAGE = withCommonHelp(`Usage: edgehook config get <device> [key] [--json]
       edgehook config set <device> <key> <value> [--version N]
       edgehook config watch <device> [key] [--interval 2s] [--count N]

Perfkit configs of a device: the agent's own settings (scope "agent": telemetry.interval_s,
collectors.<name>) and those its sessions declared. <key> is [scope/]class.entry; the scope is
"agent" when left out. get shows desired and reported values with their versions; set changes
the desired value (refused when --version is not the current one); watch prints every change
of a desired value (the patches) and of a reported value until interrupted.

Options:
  --version N     the desired version the edit is based on (0: nothing desired yet)
  --interval D    how often watch asks (default 2s; 500ms to 1m)
  --count N       watch: stop after N changes
  --json          print as JSON`);

const Duration = z.pipe(z.string().check(z.regex(/^\d+(ms|s|m)$/, 'a duration like 2s or 500ms')), z.transform((v) => Number(v.replace(/(ms|s|m)$/, '')) * (v.endsWith('ms') ? 1 : v.endsWith('m') ? 60_000 : 1000))).check(z.refine((ms) => ms >= 500 && ms <= 60_000, 'from 500ms to 1m'));

/** `[scope/]class.entry` -> its parts, or why not. */
export function parseConfigKey(given: string): { scope: string; key: string } {
  const slash = given.indexOf('/');
  const scope = slash < 0 ? AGENT_SCOPE : given.slice(0, slash);
  const key = slash < 0 ? given : given.slice(slash + 1);
  if (!ConfigScope.safeParse(scope).success) throw new UsageError(`${JSON.stringify(scope)} is not a config scope (a session name or agent)`, USAGE);
  if (!ConfigKey.safeParse(key).success) throw new UsageError(`${JSON.stringify(key)} is not a config key (class.entry)`, USAGE);
  return { scope, key };
}

type Entry = ConfigsView['scopes'][number]['entries'][number];

/** A command-line word as the entry's type: true/false, numbers, or the text itself. */
export function valueFor(entry: Pick<Entry, 'type'>, word: string): string | number | boolean {
  if (entry.type === 'bool') {
    if (word === 'true' || word === 'on') return true;
    if (word === 'false' || word === 'off') return false;
    throw new CliError(`expected true or false, got ${JSON.stringify(word)}`, 2);
  }
  if (entry.type === 'int' || entry.type === 'float') {
    const n = Number(word);
    if (word.trim() === '' || !Number.isFinite(n)) throw new CliError(`expected a number, got ${JSON.stringify(word)}`, 2);
    return n;
  }
  return word;
}

const show = (v: { value: unknown; version: number } | null): string => (v ? `${JSON.stringify(v.value)} (v${v.version})` : '-');

function rows(view: ConfigsView, only?: { scope: string; key: string }): Array<{ scope: string; entry: Entry }> {
  return view.scopes.flatMap((s) => s.entries.map((entry) => ({ scope: s.scope, entry }))).filter((r) => !only || (r.scope === only.scope && r.entry.key === only.key));
}

export const configCommand = defineCommand({
  name: 'config',
  summary: "get, set or watch a device's Perfkit configs (the agent's settings and its sessions')",
  usage: USAGE,
  options: { json: { type: 'boolean' }, version: { type: 'string' }, interval: { type: 'string' }, count: { type: 'string' } },
  positionals: ['action', 'device', 'key?', 'value?'],
  check({ values, args: { action, key, value } }) {
    if (action !== 'get' && action !== 'set' && action !== 'watch') throw new UsageError(`unknown action ${JSON.stringify(action)} (get, set or watch)`, USAGE);
    if (action === 'set' && (key === undefined || value === undefined)) throw new UsageError('set needs <key> and <value>', USAGE);
    if (action !== 'set' && value !== undefined) throw new UsageError(`unexpected argument ${JSON.stringify(value)}`, USAGE);
    if (values.version !== undefined && (action !== 'set' || !/^\d+$/.test(values.version))) throw new UsageError('--version is a whole number, for set', USAGE);
    const interval = values.interval === undefined ? 2000 : Duration.safeParse(values.interval);
    if (typeof interval !== 'number' && !interval.success) throw new UsageError(`--interval: ${interval.error.issues[0]?.message ?? 'invalid'}`, USAGE);
    if (values.count !== undefined && !/^[1-9]\d*$/.test(values.count)) throw new UsageError('--count is a positive whole number', USAGE);
    return { target: key === undefined ? undefined : parseConfigKey(key), intervalMs: typeof interval === 'number' ? interval : interval.data, count: values.count === undefined ? Infinity : Number(values.count) };
  },
  async run({ values, args: { action, device, value }, checked: { target, intervalMs, count }, ctx, api }) {
    const load = () => api.route(R.perfkitConfigs, { params: { id: device } });
    if (action === 'get') {
      const view = await load();
      const found = rows(view, target);
      if (target && found.length === 0) throw new CliError(`device ${view.device.name} has no config ${target.scope}/${target.key}`, 1);
      if (values.json) ctx.io.stdout(json(target ? found[0]?.entry : view));
      else ctx.io.stdout(renderTable(['KEY', 'TYPE', 'DESIRED', 'REPORTED', 'DEFAULT', 'SYNC'], found.map(({ scope, entry: e }) => [`${scope}/${e.key}`, e.type, show(e.desired), show(e.reported), JSON.stringify(e.default), e.inSync ? 'yes' : 'pending'])) + '\n');
      return 0;
    }
    if (action === 'set') {
      if (!target || value === undefined) return 2;
      const entry = rows(await load(), target)[0]?.entry;
      if (!entry) throw new CliError(`device ${device} has no config ${target.scope}/${target.key}`, 1);
      const body = { value: valueFor(entry, value), ...(values.version !== undefined ? { version: Number(values.version) } : {}) };
      const r = await api.route(R.perfkitConfigSet, { params: { id: device, scope: target.scope, key: target.key }, body });
      ctx.io.stdout(values.json ? json(r) : `${r.scope}/${r.key} = ${JSON.stringify(r.value)} (version ${r.version}, patch ${r.seq})\n`);
      return 0;
    }
    // watch: the patch log from now on, and reported values as the device applies them.
    let seen = 0;
    let since = (await api.route(R.perfkitConfigPatches, { params: { id: device }, query: { since: '0', limit: '1' } })).seq;
    const reported = new Map(rows(await load(), target).map((r) => [`${r.scope}/${r.entry.key}`, show(r.entry.reported)]));
    const say = (line: unknown): boolean => {
      ctx.io.stdout(values.json ? JSON.stringify(line) + '\n' : `${String(line)}\n`);
      return ++seen >= count;
    };
    for (;;) {
      await ctx.sleep(intervalMs);
      const page = await api.route(R.perfkitConfigPatches, { params: { id: device }, query: { since: String(since), limit: '1000' } });
      for (const p of page.patches) {
        since = p.seq;
        if (target && (p.scope !== target.scope || p.key !== target.key)) continue;
        if (say(values.json ? { kind: 'desired', ...p } : `desired ${p.scope}/${p.key} = ${JSON.stringify(p.value)} (v${p.version}, patch ${p.seq}, by ${p.by ?? '-'})`)) return 0;
      }
      for (const r of rows(await load(), target)) {
        const name = `${r.scope}/${r.entry.key}`;
        const now = show(r.entry.reported);
        if (reported.get(name) === now) continue;
        reported.set(name, now);
        if (say(values.json ? { kind: 'reported', scope: r.scope, key: r.entry.key, reported: r.entry.reported } : `reported ${name} = ${now}`)) return 0;
      }
    }
  },
});
