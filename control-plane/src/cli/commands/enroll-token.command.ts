import * as z from '@edgehook/shared/zod';
import { CreatedEnrollmentToken, EnrollmentTokenView } from '@edgehook/shared';
import type { ApiClient } from '../api-client.js';
import { durationSeconds, positiveInt, withCommonHelp } from '../args.js';
import { commandGroup, defineCommand } from '../define-command.js';
import { isLoopback } from '../server-url.js';
import { json, list, printable, relativeTime, renderTable } from '../table.js';

const CREATE_USAGE = withCommonHelp(`Usage: edgehook enroll-token create [--max-uses N] [--expires-in DURATION] [--tag T]... [--note TEXT] [--json]

Creates a token a device trades for its own credentials, and prints the agent command.

Options:
  --max-uses N          devices that may enroll with it (default 1)
  --expires-in DURATION 30m, 1h, 7d, 2w or seconds (default 1d)
  --tag T               tag for the devices enrolled with it (repeatable)
  --note TEXT           a reminder of what it is for
  --json                print the created token as JSON`);

const LIST_USAGE = withCommonHelp(`Usage: edgehook enroll-token list [--json]

Options:
  --json                print the tokens as a JSON array`);

const REVOKE_USAGE = withCommonHelp(
  `Usage: edgehook enroll-token revoke <id>

Options:`,
  { column: 24 },
);

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

const create = defineCommand({
  name: 'create',
  summary: 'create a token and print the command to run on the device',
  usage: CREATE_USAGE,
  options: {
    'max-uses': { type: 'string' },
    'expires-in': { type: 'string' },
    tag: { type: 'string', multiple: true },
    note: { type: 'string' },
    json: { type: 'boolean' },
  },
  // Unset fields are left out so the server's defaults apply.
  check: ({ values }) => ({
    ...(values['max-uses'] !== undefined ? { maxUses: positiveInt('max-uses', values['max-uses'], CREATE_USAGE) } : {}),
    ...(values['expires-in'] !== undefined ? { expiresIn: durationSeconds('expires-in', values['expires-in'], CREATE_USAGE) } : {}),
    ...(values.tag !== undefined ? { tags: values.tag } : {}),
    ...(values.note !== undefined ? { note: values.note } : {}),
  }),
  async run({ values, checked: body, ctx, api }) {
    const created = await api.json(CreatedEnrollmentToken, 'POST', '/api/enrollment-tokens', { body });
    ctx.io.stdout(values.json ? json(created) : describeCreated(api, created, ctx.now()));
    return 0;
  },
});

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

const listTokens = defineCommand({
  name: 'list',
  summary: 'list enrollment tokens',
  usage: LIST_USAGE,
  options: { json: { type: 'boolean' } },
  async run({ values, ctx, api }) {
    const tokens = await api.json(z.array(EnrollmentTokenView), 'GET', '/api/enrollment-tokens');
    const now = ctx.now();
    if (values.json) ctx.io.stdout(json(tokens));
    else if (tokens.length === 0) ctx.io.stdout('No enrollment tokens. Create one with: edgehook enroll-token create\n');
    else {
      const rows = tokens.map((t) => [t.id, tokenStatus(t, now), `${t.uses}/${t.maxUses}`, relativeTime(t.expiresAt, now), list(t.tags), t.note ?? '']);
      ctx.io.stdout(renderTable(['ID', 'STATUS', 'USES', 'EXPIRES', 'TAGS', 'NOTE'], rows) + '\n');
    }
    return 0;
  },
});

const revoke = defineCommand({
  name: 'revoke',
  summary: 'revoke a token by id',
  usage: REVOKE_USAGE,
  positionals: ['id'],
  async run({ args: { id }, ctx, api }) {
    await api.call('DELETE', `/api/enrollment-tokens/${encodeURIComponent(id)}`);
    ctx.io.stdout(`Revoked enrollment token ${printable(id)}\n`);
    return 0;
  },
});

export const enrollTokenCommand = commandGroup({
  name: 'enroll-token',
  summary: 'create, list and revoke device enrollment tokens',
  usage: USAGE,
  subcommands: { create, list: listTokens, revoke },
});
