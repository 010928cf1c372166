import { readFile } from 'node:fs/promises';
import * as z from '@edgehook/shared/zod';
import { AgentPackageView, AgentVersion, DeviceView, type AgentUpdateOutcome } from '@edgehook/shared';
import { AgentUpdateRoutes } from '@edgehook/shared/rest';
import { withCommonHelp } from '../args.js';
import { defineCommand } from '../define-command.js';
import { CliError, UsageError } from '../errors.js';
import { streamRequest } from '../stream-request.js';
import { json, printable, relativeTime, renderTable } from '../table.js';

const USAGE = withCommonHelp(`Usage: edgehook agent <action> [options]

Agent packages and agent updates (docs/agent-updates.md):
  packages                          list the published packages, newest first
  publish FILE --version V          publish an edgehook-agent.tgz (npm run build:agent makes one)
  update <device> [--version V]     update one device and wait for the outcome
  update --tag T [--version V]      update every device with the tag, one after another

Without --version an update goes to the newest package and never downgrades; an explicit
--version may be older than what a device runs (a downgrade).

Options:
  --version V   the package version
  --tag T       update: the devices with this tag
  --json        print JSON`);

/** The server answers once the new version is healthy or rolled back (its deadline plus a grace, an hour at most). */
const UPDATE_WAIT_MS = 65 * 60_000;

type AgentAction = { action: 'packages' } | { action: 'publish'; file: string; version: string } | { action: 'update'; device?: string; tag?: string; version?: string };

const versionOf = (v: string | undefined): string | undefined => {
  if (v === undefined) return undefined;
  const parsed = AgentVersion.safeParse(v);
  if (!parsed.success) throw new UsageError(`--version ${JSON.stringify(v)}: ${parsed.error.issues[0]?.message ?? 'not a version'}`, USAGE);
  return parsed.data;
};

export const agentCommand = defineCommand({
  name: 'agent',
  summary: 'publish agent packages and update device agents',
  usage: USAGE,
  options: { json: { type: 'boolean' }, version: { type: 'string' }, tag: { type: 'string' } },
  positionals: ['action?', 'arg?'],
  check({ args: { action, arg }, values }): AgentAction {
    const version = versionOf(values.version);
    if (action === 'packages') {
      if (arg !== undefined) throw new UsageError(`unexpected argument ${JSON.stringify(arg)}`, USAGE);
      return { action: 'packages' };
    }
    if (action === 'publish') {
      if (!arg) throw new UsageError('missing FILE (an edgehook-agent.tgz)', USAGE);
      if (!version) throw new UsageError('publish needs --version V (the version in the package\'s package.json)', USAGE);
      return { action: 'publish', file: arg, version };
    }
    if (action === 'update') {
      if ((arg === undefined) === (values.tag === undefined)) throw new UsageError('update takes a <device> or --tag T (one of them)', USAGE);
      return { action: 'update', ...(arg !== undefined ? { device: arg } : {}), ...(values.tag !== undefined ? { tag: values.tag } : {}), ...(version ? { version } : {}) };
    }
    throw new UsageError(action ? `unknown action ${JSON.stringify(action)}: packages, publish or update` : 'missing <action>: packages, publish or update', USAGE);
  },
  async run({ values, checked, ctx, api }) {
    if (checked.action === 'packages') {
      const list = await api.route(AgentUpdateRoutes.agentPackageList, { params: {} });
      if (values.json) ctx.io.stdout(json(list) + '\n');
      else if (list.packages.length === 0) ctx.io.stdout('no agent packages; build one with npm run build:agent or publish one with edgehook agent publish FILE --version V\n');
      else ctx.io.stdout(renderTable(['VERSION', 'SOURCE', 'SIZE', 'SHA-256', 'PUBLISHED'], list.packages.map((p) => [p.version, p.source, `${Math.round(p.size / 1024)} KB`, p.sha256.slice(0, 16), relativeTime(p.publishedAt, ctx.now())])) + '\n');
      return 0;
    }
    if (checked.action === 'publish') {
      const bytes = await readFile(checked.file).catch((err: unknown) => {
        throw new UsageError(`${checked.file}: ${err instanceof Error ? err.message : String(err)}`, USAGE);
      });
      // A JSON call first: it refreshes the session that the raw upload then uses.
      await api.route(AgentUpdateRoutes.agentPackageList, { params: {} });
      const res = await streamRequest(ctx, api, `/api/agent/packages/${encodeURIComponent(checked.version)}`, { method: 'PUT', headers: { 'content-type': 'application/gzip' }, body: new Uint8Array(bytes) });
      const parsed = AgentPackageView.safeParse(await res.json());
      if (!parsed.success) throw new CliError('the server answered the upload with an unexpected body');
      ctx.io.stdout(values.json ? json(parsed.data) + '\n' : `published agent ${parsed.data.version} (${parsed.data.size} bytes, sha256 ${parsed.data.sha256})\n`);
      return 0;
    }
    const targets = checked.device !== undefined ? [checked.device] : (await api.json(z.array(DeviceView), 'GET', '/api/devices', { query: { tag: checked.tag } })).map((d) => d.name);
    if (targets.length === 0) throw new CliError(`no device has the tag ${checked.tag ?? ''}`);
    const results: { device: string; outcome: AgentUpdateOutcome }[] = [];
    for (const device of targets) {
      let outcome: AgentUpdateOutcome;
      try {
        outcome = await api.route(AgentUpdateRoutes.agentUpdate, { params: { id: device }, body: checked.version ? { version: checked.version } : {}, timeoutMs: UPDATE_WAIT_MS });
      } catch (err) {
        // One device's refusal (offline, unknown version) is its result; the others still run.
        if (checked.device !== undefined) throw err;
        outcome = { status: 'failed', version: '', message: err instanceof Error ? err.message : String(err) };
      }
      results.push({ device, outcome });
      if (!values.json) ctx.io.stdout(`${printable(device)}: ${outcome.status}${outcome.version ? ` (runs ${outcome.version})` : ''}${outcome.message ? `: ${printable(outcome.message)}` : ''}\n`);
    }
    if (values.json) ctx.io.stdout(json(checked.device !== undefined ? results[0]?.outcome : results) + '\n');
    return results.every((r) => r.outcome.status === 'succeeded') ? 0 : 1;
  },
});
