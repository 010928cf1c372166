import * as z from '@edgehook/shared/zod';
import { SshKeyView } from '@edgehook/shared';
import { withCommonHelp } from '../args.js';
import { defineCommand } from '../define-command.js';
import { UsageError } from '../errors.js';
import { readLocalText } from '../local-input.js';
import { json, printable, relativeTime, renderTable } from '../table.js';

const USAGE = withCommonHelp(`Usage: edgehook ssh-key <action> [options]

Your SSH public keys, for SFTP into servers (sftp -P 2022 <you>.<server>@<device>@<host>; docs/sftp.md):
  ls                   list them
  add <file.pub>       register one (the public key file; "-" reads stdin)
  rm <id>              remove one

Options:
  --name NAME   add: a name for the key (default: its comment)
  --json        print JSON`);

type KeyAction = { action: 'ls' } | { action: 'add'; publicKey: string } | { action: 'rm'; id: string };

/** The key file's text ("-" reads stdin); a private key is refused before it leaves this machine. */
async function readPublicKey(arg: string, stdin: NodeJS.ReadableStream): Promise<string> {
  const text = await readLocalText(arg, stdin, USAGE);
  if (/PRIVATE KEY/.test(text)) throw new UsageError(`${arg} is a private key: give the .pub file`, USAGE);
  return text.trim();
}

export const sshKeyCommand = defineCommand({
  name: 'ssh-key',
  summary: 'list, add and remove your SSH keys for SFTP',
  usage: USAGE,
  options: { json: { type: 'boolean' }, name: { type: 'string' } },
  positionals: ['action?', 'arg?'],
  async check({ args: { action, arg }, ctx }): Promise<KeyAction> {
    if (action === 'ls') {
      if (arg !== undefined) throw new UsageError(`unexpected argument ${JSON.stringify(arg)}`, USAGE);
      return { action: 'ls' };
    }
    if (action === 'add') {
      if (!arg) throw new UsageError('missing <file.pub>', USAGE);
      return { action: 'add', publicKey: await readPublicKey(arg, ctx.io.stdin) };
    }
    if (action === 'rm') {
      if (!arg) throw new UsageError('missing <id>', USAGE);
      return { action: 'rm', id: arg };
    }
    throw new UsageError(action ? `unknown action ${JSON.stringify(action)}: ls, add or rm` : 'missing <action>: ls, add or rm', USAGE);
  },
  async run({ values, checked, ctx, api }) {
    if (checked.action === 'ls') {
      const keys = await api.json(z.array(SshKeyView), 'GET', '/api/users/me/ssh-keys');
      if (values.json) ctx.io.stdout(json(keys) + '\n');
      else if (keys.length === 0) ctx.io.stdout('no SSH keys; add one with: edgehook ssh-key add ~/.ssh/id_ed25519.pub\n');
      else ctx.io.stdout(renderTable(['ID', 'NAME', 'TYPE', 'FINGERPRINT', 'ADDED'], keys.map((k) => [k.id, printable(k.name), k.type, k.fingerprint, relativeTime(k.createdAt, ctx.now())])) + '\n');
      return 0;
    }
    if (checked.action === 'add') {
      const key = await api.json(SshKeyView, 'POST', '/api/users/me/ssh-keys', { body: { publicKey: checked.publicKey, ...(values.name ? { name: values.name } : {}) } });
      ctx.io.stdout(values.json ? json(key) + '\n' : `added ${printable(key.name)} (${key.fingerprint}), id ${key.id}\n`);
      return 0;
    }
    await api.call('DELETE', `/api/users/me/ssh-keys/${encodeURIComponent(checked.id)}`);
    ctx.io.stdout(`removed ${printable(checked.id)}\n`);
    return 0;
  },
});
