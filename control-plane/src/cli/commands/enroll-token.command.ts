import { parseFlags } from '@edgehook/shared/argv';
import { z } from 'zod';
import { CreatedEnrollmentToken, EnrollmentTokenView } from '@edgehook/shared';
import { openSession, type ApiClient } from '../api-client.js';
import { COMMON_OPTIONS, durationSeconds, positionals, positiveInt, withUsage } from '../args.js';
import type { Command, CommandContext } from '../context.js';
import { UsageError } from '../errors.js';
import { isLoopback } from '../server-url.js';
import { json, list, printable, relativeTime, renderTable } from '../table.js';

const SERVER_HELP = `  --server URL          the control plane (default: the one you logged in to) [EDGEHOOK_SERVER]
  -h, --help            show this help`;

const CREATE_USAGE = `Usage: edgehook enroll-token create [--max-uses N] [--expires-in DURATION] [--tag T]... [--note TEXT] [--json]

Creates a token a device trades for its own credentials, and prints the agent command.

Options:
  --max-uses N          devices that may enroll with it (default 1)
  --expires-in DURATION 30m, 1h, 7d, 2w or seconds (default 1d)
  --tag T               tag for the devices enrolled with it (repeatable)
  --note TEXT           a reminder of what it is for
  --json                print the created token as JSON
${SERVER_HELP}`;

const LIST_USAGE = `Usage: edgehook enroll-token list [--json]

Options:
  --json                print the tokens as a JSON array
${SERVER_HELP}`;

const REVOKE_USAGE = `Usage: edgehook enroll-token revoke <id>

Options:
${SERVER_HELP}`;

const USAGE = `Usage: edgehook enroll-token <create|list|revoke> [options]

  create    create a token and print the command to run on the device
  list      list enrollment tokens
  revoke    revoke a token by id

Run edgehook enroll-token <subcommand> --help for its options.`;

import { shellWord } from '../../devices/install-command.js';

/** The token is read from the environment, never from argv where `ps` shows it. */
export function agentCommandLine(server: string, fingerprint: string | undefined): string {
  return ['EDGEHOOK_ENROLL_TOKEN=<token>', 'edgehook-agent', '--server', shellWord(server), ...(fingerprint ? ['--server-fingerprint', fingerprint] : []), '--state-dir', '/var/lib/edgehook-agent'].join(' ');
}

function tokenStatus(t: EnrollmentTokenView, now: number): string {
  if (t.revoked) return 'revoked';
  if (t.uses >= t.maxUses) return 'used up';
  return Date.parse(t.expiresAt) <= now ? 'expired' : 'active';
}

async function create(argv: string[], ctx: CommandContext): Promise<number> {
  const { values } = withUsage(CREATE_USAGE, () =>
    parseFlags({
      args: argv,
      options: {
        ...COMMON_OPTIONS,
        'max-uses': { type: 'string' },
        'expires-in': { type: 'string' },
        tag: { type: 'string', multiple: true },
        note: { type: 'string' },
        json: { type: 'boolean' },
      },
      strict: true,
      allowPositionals: false,
    }),
  );
  if (values.help) return help(ctx, CREATE_USAGE);
  // Unset fields are left out so the server's defaults apply.
  const body = {
    ...(values['max-uses'] !== undefined ? { maxUses: positiveInt('max-uses', values['max-uses'], CREATE_USAGE) } : {}),
    ...(values['expires-in'] !== undefined ? { expiresIn: durationSeconds('expires-in', values['expires-in'], CREATE_USAGE) } : {}),
    ...(values.tag !== undefined ? { tags: values.tag } : {}),
    ...(values.note !== undefined ? { note: values.note } : {}),
  };
  const api = await openSession(ctx, values.server);
  const created = await api.json(CreatedEnrollmentToken, 'POST', '/api/enrollment-tokens', { body });
  if (values.json) {
    ctx.io.stdout(json(created));
    return 0;
  }
  ctx.io.stdout(describeCreated(api, created, ctx.now()));
  return 0;
}

function describeCreated(api: ApiClient, created: CreatedEnrollmentToken, now: number): string {
  const uses = created.maxUses === 1 ? 'single use' : `up to ${created.maxUses} devices`;
  const lines = [
    'Enrollment token (shown only once):',
    '',
    `  ${created.token}`,
    '',
    `Id ${created.id}: ${uses}, expires ${relativeTime(created.expiresAt, now)} (${created.expiresAt})${created.tags.length > 0 ? `, tags ${list(created.tags.map(printable))}` : ''}.`,
    '',
    ...(created.install
      ? [
          'On the device (e.g. a Raspberry Pi with Node.js >= 20), install and enroll the agent with one command;',
          'it asks for the token above (or give --token-file PATH):',
          '',
          `  ${created.install.command}`,
          '',
          'Add --profile for the board, e.g. --profile raspberry-pi-4b (or raspberry-pi-5, raspberry-pi-zero-2w, pikvm-v3, generic-linux).',
          'Or, from a checkout of this repository on the device:',
          '',
          `  ${agentCommandLine(api.server, created.install.fingerprint)}`,
          '',
          ...created.install.warnings.map((w) => `Note: ${w}`),
        ]
      : [
          'On the device (e.g. a Raspberry Pi), run:',
          '',
          `  ${agentCommandLine(api.server, undefined)}`,
          '',
          'Add --profile for the board, e.g. --profile raspberry-pi-4b (or raspberry-pi-5, raspberry-pi-zero-2w, pikvm-v3, generic-linux).',
          ...(isLoopback(api.server) ? [`Note: ${api.server} is this machine's loopback address; on the device, use an address of this machine that it can reach.`] : []),
        ]),
  ];
  return lines.join('\n') + '\n';
}

async function listTokens(argv: string[], ctx: CommandContext): Promise<number> {
  const { values } = withUsage(LIST_USAGE, () =>
    parseFlags({ args: argv, options: { ...COMMON_OPTIONS, json: { type: 'boolean' } }, strict: true, allowPositionals: false }),
  );
  if (values.help) return help(ctx, LIST_USAGE);
  const api = await openSession(ctx, values.server);
  const tokens = await api.json(z.array(EnrollmentTokenView), 'GET', '/api/enrollment-tokens');
  const now = ctx.now();
  if (values.json) ctx.io.stdout(json(tokens));
  else if (tokens.length === 0) ctx.io.stdout('No enrollment tokens. Create one with: edgehook enroll-token create\n');
  else {
    const rows = tokens.map((t) => [t.id, tokenStatus(t, now), `${t.uses}/${t.maxUses}`, relativeTime(t.expiresAt, now), list(t.tags), t.note ?? '']);
    ctx.io.stdout(renderTable(['ID', 'STATUS', 'USES', 'EXPIRES', 'TAGS', 'NOTE'], rows) + '\n');
  }
  return 0;
}

async function revoke(argv: string[], ctx: CommandContext): Promise<number> {
  const parsed = withUsage(REVOKE_USAGE, () => parseFlags({ args: argv, options: COMMON_OPTIONS, strict: true, allowPositionals: true }));
  if (parsed.values.help) return help(ctx, REVOKE_USAGE);
  const [id = ''] = positionals(parsed.positionals, ['id'], REVOKE_USAGE);
  const api = await openSession(ctx, parsed.values.server);
  await api.call('DELETE', `/api/enrollment-tokens/${encodeURIComponent(id)}`);
  ctx.io.stdout(`Revoked enrollment token ${printable(id)}\n`);
  return 0;
}

function help(ctx: CommandContext, usage: string): number {
  ctx.io.stdout(usage + '\n');
  return 0;
}

const SUBCOMMANDS: Record<string, (argv: string[], ctx: CommandContext) => Promise<number>> = { create, list: listTokens, revoke };

export const enrollTokenCommand: Command = {
  name: 'enroll-token',
  summary: 'create, list and revoke device enrollment tokens',
  usage: USAGE,
  async run(argv, ctx) {
    const [sub, ...rest] = argv;
    if (sub === undefined) throw new UsageError('missing subcommand', USAGE);
    if (sub === '--help' || sub === '-h' || sub === 'help') return help(ctx, USAGE);
    const run = Object.hasOwn(SUBCOMMANDS, sub) ? SUBCOMMANDS[sub] : undefined;
    if (!run) throw new UsageError(`unknown subcommand ${JSON.stringify(sub)}`, USAGE);
    return run(rest, ctx);
  },
};
