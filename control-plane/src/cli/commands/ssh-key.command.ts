import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { SshKeyView } from '@edgehook/shared';
import { openSession } from '../api-client.js';
import { COMMON_OPTIONS, withUsage } from '../args.js';
import type { Command } from '../context.js';
import { UsageError } from '../errors.js';
import { json, printable, relativeTime, renderTable } from '../table.js';

const USAGE = `Usage: edgehook ssh-key <action> [options]

Your SSH public keys, for SFTP into servers (sftp -P 2022 <you>.<server>@<device>@<host>; docs/sftp.md):
  ls                   list them
  add <file.pub>       register one (the public key file; "-" reads stdin)
  rm <id>              remove one

Options:
  --name NAME   add: a name for the key (default: its comment)
  --json        print JSON
  --server URL  the control plane (default: the one you logged in to) [EDGEHOOK_SERVER]
  -h, --help    show this help`;

export const sshKeyCommand: Command = {
  name: 'ssh-key',
  summary: 'list, add and remove your SSH keys for SFTP',
  usage: USAGE,
  async run(argv, ctx) {
    const parsed = withUsage(USAGE, () => parseArgs({ args: argv, options: { ...COMMON_OPTIONS, json: { type: 'boolean' }, name: { type: 'string' } }, strict: true, allowPositionals: true }));
    const { values } = parsed;
    if (values.help) {
      ctx.io.stdout(USAGE + '\n');
      return 0;
    }
    const [action, arg, extra] = parsed.positionals;
    if (extra !== undefined) throw new UsageError(`unexpected argument ${JSON.stringify(extra)}`, USAGE);
    if (action === 'ls') {
      if (arg !== undefined) throw new UsageError(`unexpected argument ${JSON.stringify(arg)}`, USAGE);
      const keys = await (await openSession(ctx, values.server)).json(z.array(SshKeyView), 'GET', '/api/users/me/ssh-keys');
      if (values.json) ctx.io.stdout(json(keys) + '\n');
      else if (keys.length === 0) ctx.io.stdout('no SSH keys; add one with: edgehook ssh-key add ~/.ssh/id_ed25519.pub\n');
      else ctx.io.stdout(renderTable(['ID', 'NAME', 'TYPE', 'FINGERPRINT', 'ADDED'], keys.map((k) => [k.id, printable(k.name), k.type, k.fingerprint, relativeTime(k.createdAt, ctx.now())])) + '\n');
      return 0;
    }
    if (action === 'add') {
      if (!arg) throw new UsageError('missing <file.pub>', USAGE);
      let text: string;
      try {
        if (arg === '-') {
          const chunks: Buffer[] = [];
          for await (const c of ctx.io.stdin) chunks.push(Buffer.isBuffer(c) ? c : Buffer.from(String(c)));
          text = Buffer.concat(chunks).toString('utf8');
        } else text = await readFile(arg, 'utf8');
      } catch (err) {
        throw new UsageError(`cannot read ${arg}: ${err instanceof Error ? err.message : String(err)}`, USAGE);
      }
      if (/PRIVATE KEY/.test(text)) throw new UsageError(`${arg} is a private key: give the .pub file`, USAGE);
      const key = await (await openSession(ctx, values.server)).json(SshKeyView, 'POST', '/api/users/me/ssh-keys', { body: { publicKey: text.trim(), ...(values.name ? { name: values.name } : {}) } });
      ctx.io.stdout(values.json ? json(key) + '\n' : `added ${printable(key.name)} (${key.fingerprint}), id ${key.id}\n`);
      return 0;
    }
    if (action === 'rm') {
      if (!arg) throw new UsageError('missing <id>', USAGE);
      await (await openSession(ctx, values.server)).call('DELETE', `/api/users/me/ssh-keys/${encodeURIComponent(arg)}`);
      ctx.io.stdout(`removed ${printable(arg)}\n`);
      return 0;
    }
    throw new UsageError(action ? `unknown action ${JSON.stringify(action)}: ls, add or rm` : 'missing <action>: ls, add or rm', USAGE);
  },
};
