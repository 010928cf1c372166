import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Password, validate } from '@edgehook/shared';
import { withCommonHelp } from '../args.js';
import { defineCommand } from '../define-command.js';
import { CliError, UsageError } from '../errors.js';
import { openDatabase, parseStoreLocation } from '../../db/dialect.js';
import { generatePassword, hashPassword } from '../../auth/passwords.js';
import { revokeUserSessions } from '../../auth/sessions.repository.js';
import { findUserByLogin, updateUser } from '../../auth/users.repository.js';

const USAGE = withCommonHelp(`Usage: edgehook admin reset-password --username U [--database PATH|URL] [--data-dir DIR]

Sets a user's password directly in the store the server uses (no server or login needed: for a
lost first admin password). Prints a new generated password, or sets EDGEHOOK_NEW_PASSWORD's
value (a password is never taken from the command line, where ps would show it). The user's
sessions are ended.

Options:
  --username U        the user (username or email)
  --database X        SQLite path or postgres:// URL, as given to serve [EDGEHOOK_DATABASE]
  --data-dir DIR      the server's data directory: <DIR>/edgehook.db [EDGEHOOK_DATA_DIR] (default ./data)`, { server: false });

export const adminCommand = defineCommand({
  name: 'admin',
  summary: 'offline store maintenance: admin reset-password --username U',
  usage: USAGE,
  options: { username: { type: 'string' }, database: { type: 'string' }, 'data-dir': { type: 'string' } },
  positionals: ['action?', 'extra...'],
  // The store is opened directly: no server, no login.
  needs: 'nothing',
  check({ values, args: { action, extra } }) {
    if (action !== 'reset-password') throw new UsageError(action === undefined ? 'missing the action (reset-password)' : `unknown action ${JSON.stringify(action)} (reset-password)`, USAGE);
    if (extra.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(extra[0])}`, USAGE);
    if (!values.username) throw new UsageError('missing --username', USAGE);
    return values.username;
  },
  async run({ values, checked: username, ctx }) {
    const given = ctx.io.env['EDGEHOOK_NEW_PASSWORD'];
    let password = generatePassword();
    if (given !== undefined && given !== '') {
      const checked = validate(Password, given);
      if (!checked.ok) throw new CliError(`EDGEHOOK_NEW_PASSWORD: ${checked.error}`, 2);
      password = checked.value;
    }
    const database = values.database ?? (ctx.io.env['EDGEHOOK_DATABASE'] || undefined);
    const store = parseStoreLocation(database ?? join(resolve(values['data-dir'] ?? (ctx.io.env['EDGEHOOK_DATA_DIR'] || './data')), 'edgehook.db'));
    // Opening a missing SQLite file would create an empty store: name the path instead.
    if (store.kind === 'sqlite' && !existsSync(store.path)) throw new CliError(`no Edgehook store at ${store.path}: give the server's --database or --data-dir`);
    const db = await openDatabase(store);
    try {
      const user = await findUserByLogin(db, username).catch((err: unknown) => {
        throw new CliError(`cannot read the store (${store.kind === 'sqlite' ? store.path : 'postgres'}): ${err instanceof Error ? err.message : String(err)}`);
      });
      if (!user) throw new CliError(`no user ${JSON.stringify(username)} in the store`);
      await updateUser(db, user.id, { passwordHash: await hashPassword(password) }, ctx.now());
      await revokeUserSessions(db, user.id, ctx.now());
      if (given) ctx.io.stdout(`password of ${user.username} set from EDGEHOOK_NEW_PASSWORD; their sessions are ended\n`);
      else ctx.io.stdout(`new password for ${user.username}: ${password}\n(shown once; their sessions are ended)\n`);
      return 0;
    } finally {
      await db.destroy();
    }
  },
});
