import * as z from '@edgehook/shared/zod';
import { ApplyResult, DeclaredServer, DeclaredServers, PlanStep } from '@edgehook/shared';
import type { CommandContext } from '../context.js';
import { withCommonHelp } from '../args.js';
import { defineCommand } from '../define-command.js';
import { CliError, UsageError } from '../errors.js';
import { json, printable, renderTable } from '../table.js';
import { buildSpec, readSpecFile, SPEC_OPTIONS } from './server-spec.js';
import { followPulls } from './pull-progress.js';

const USAGE = `${withCommonHelp(`Usage: edgehook server <action> <device> [<name>] [options] [-- cmd args...]

Declared servers (containers the device keeps as declared; docs/containers.md):
  ls <device>              the declared servers and the last apply
  create <device> <name>   declare a new server (from flags, or --file spec.yaml|json)
  edit <device> <name>     change it: flags change those fields, --file replaces the spec
  rm <device> <name>       remove it (the container goes, its data directory stays)

Spec options (create, edit):
  -f, --file PATH          a YAML or JSON spec of one server ("-" reads stdin)
  --image REF              the image (required for create)
  -- CMD ARGS...           the command (everything after --)
  --env KEY=VALUE          an environment variable (repeatable); --unset-env KEY removes one
  --port HOST:CONTAINER[/udp]   publish a port (repeatable; replaces the list)
  --volume SOURCE:TARGET[:ro]   a bind mount (repeatable; relative sources are in the data dir)
  --label KEY=VALUE        a label (repeatable)
  --restart POLICY         no | always | unless-stopped | on-failure
  --memory SIZE            a memory limit: 256m, 1g, bytes
  --cpus N                 a CPU limit in cores (0.5 = half a core)
  --workdir PATH, --data-mount PATH|none, --stop-timeout SECONDS, --tty
  --stopped | --running    the desired state (default running)

Options:
  --dry-run     show the plan (the steps the device would take) and change nothing
  --json        print JSON`)}

Examples:
  edgehook server create pi-a web --image nginx:alpine --port 8080:80 --restart unless-stopped
  edgehook server edit pi-a web --env GREETING=hi --dry-run
  edgehook server create pi-a mc --file mc.yaml
  edgehook server rm pi-a web

While the device pulls an image for an apply, its progress is printed
("pulling nginx:alpine: 2/7 layers, 1.2/16.9 MB"; one updating line on a terminal).`;

const OPTIONS = { ...SPEC_OPTIONS, json: { type: 'boolean' }, 'dry-run': { type: 'boolean' } } as const;

const ChangeResult = z.object({
  revision: z.optional(z.number()),
  servers: DeclaredServers,
  apply: z.optional(z.nullable(ApplyResult)),
  plan: z.optional(z.nullable(z.array(PlanStep))),
  pending: z.optional(z.string()),
  dryRun: z.optional(z.boolean()),
});
const DeclaredSetView = z.object({
  servers: DeclaredServers,
  revision: z.number(),
  updatedAt: z.nullable(z.string()),
  updatedBy: z.nullable(z.string()),
  lastApply: z.nullable(z.object({ revision: z.number(), at: z.string(), result: ApplyResult })),
});

const stepText = (s: z.infer<typeof PlanStep>) => `${s.action} ${s.server}${s.action === 'recreate' ? ` (${s.reason})` : ''}`;

function report(ctx: CommandContext, what: string, res: z.infer<typeof ChangeResult>, asJson: boolean): number {
  if (asJson) {
    ctx.io.stdout(json(res) + '\n');
    return res.apply && !res.apply.ok ? 1 : 0;
  }
  if (res.dryRun) {
    if (res.plan === null || res.plan === undefined) ctx.io.stdout(`dry run: ${printable(res.pending ?? 'no plan')}\n`);
    else ctx.io.stdout(res.plan.length === 0 ? 'dry run: nothing to do\n' : `dry run, the device would:\n${res.plan.map((s) => `  ${printable(stepText(s))}`).join('\n')}\n`);
    return 0;
  }
  if (!res.apply) {
    ctx.io.stdout(`${what} (revision ${res.revision}); ${printable(res.pending ?? '')}\n`);
    return 0;
  }
  ctx.io.stdout(`${what} (revision ${res.revision})\n`);
  for (const o of res.apply.steps) ctx.io.stdout(`  ${o.ok ? 'ok  ' : 'FAIL'} ${printable(stepText(o.step))}${o.error ? `: ${printable(o.error)}` : ''}\n`);
  if (!res.apply.ok) throw new CliError('the device could not apply every step (see above); the declared set is stored and retried when the device reconnects');
  return 0;
}

export const serverCommand = defineCommand({
  name: 'server',
  summary: 'create, edit, remove and list declared servers',
  usage: USAGE,
  options: OPTIONS,
  positionals: ['action?', 'device?', 'name?', 'cmd...'],
  check({ args: { action, device } }) {
    if (!action) throw new UsageError('missing <action>: ls, create, edit or rm', USAGE);
    if (!device) throw new UsageError('missing <device>', USAGE);
    return { action, ref: device };
  },
  async run({ values, args: { name, cmd }, checked: { action, ref }, ctx, api }) {
    const query = values['dry-run'] ? { dryRun: 'true' } : undefined;
    // An apply may pull images: their progress is printed while the request runs (not with --json or --dry-run).
    const applying = async <T>(send: () => Promise<T>): Promise<T> => {
      if (values.json || values['dry-run']) return send();
      const stop = await followPulls(ctx, api, ref);
      try {
        return await send();
      } finally {
        await stop();
      }
    };
    const base = `/api/devices/${encodeURIComponent(ref)}/servers`;
    if (action === 'ls') {
      if (name) throw new UsageError(`unexpected argument ${JSON.stringify(name)}`, USAGE);
      const set = await api.json(DeclaredSetView, 'GET', base);
      if (values.json) ctx.io.stdout(json(set) + '\n');
      else if (set.servers.length === 0) ctx.io.stdout(`no declared servers on ${printable(ref)}\n`);
      else {
        const rows = set.servers.map((s) => [printable(s.name), printable(s.image), s.desired, s.ports.map((p) => `${p.host}->${p.container}/${p.protocol}`).join(',') || '-', s.restartPolicy]);
        ctx.io.stdout(renderTable(['NAME', 'IMAGE', 'DESIRED', 'PORTS', 'RESTART'], rows) + '\n');
        const last = set.lastApply;
        ctx.io.stdout(`revision ${set.revision}${last ? `; last apply (revision ${last.revision}) ${last.result.ok ? 'ok' : 'FAILED'}` : '; not applied yet'}\n`);
      }
      return 0;
    }
    if (!name) throw new UsageError('missing <name>', USAGE);
    if (action === 'rm') {
      if (cmd.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(cmd[0])}`, USAGE);
      const res = await applying(() => api.json(ChangeResult, 'DELETE', `${base}/${encodeURIComponent(name)}`, { query }));
      return report(ctx, `server ${printable(name)} removed`, res, values.json ?? false);
    }
    if (action !== 'create' && action !== 'edit') throw new UsageError(`unknown action ${JSON.stringify(action)}: ls, create, edit or rm`, USAGE);
    const file = values.file === undefined ? undefined : await readSpecFile(values.file, ctx.io.stdin, USAGE);
    if (file && file['name'] !== undefined && file['name'] !== name) throw new UsageError(`${values.file} names ${JSON.stringify(file['name'])}, the command ${JSON.stringify(name)}`, USAGE);
    if (action === 'create') {
      const spec = buildSpec(file ?? {}, name, cmd, values, USAGE);
      const res = await applying(() => api.json(ChangeResult, 'POST', base, { body: spec, query }));
      return report(ctx, `server ${printable(name)} created`, res, values.json ?? false);
    }
    const current = file ?? (await api.json(DeclaredServer, 'GET', `${base}/${encodeURIComponent(name)}`));
    const spec = buildSpec({ ...current }, name, cmd, values, USAGE);
    const res = await applying(() => api.json(ChangeResult, 'PUT', `${base}/${encodeURIComponent(name)}`, { body: spec, query }));
    return report(ctx, `server ${printable(name)} changed`, res, values.json ?? false);
  },
});
