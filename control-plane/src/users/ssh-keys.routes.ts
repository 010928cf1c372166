import { Hono } from 'hono';
import type { Kysely } from 'kysely';
import { EdgehookError, type Clock } from '@edgehook/shared';
import { CoreRoutes as R } from '@edgehook/shared/rest';
import type { Database } from '../db/database.js';
import type { AppEnv } from '../http/context.js';
import { routeMounter } from '../http/rest-route.js';
import { addSshKey, deleteSshKey, listSshKeys } from './ssh-keys.repository.js';

/** `/api/users/me/ssh-keys`: the caller's SSH public keys for SFTP (docs/sftp.md). */
export function sshKeysRoutes(deps: { db: Kysely<Database>; clock: Clock }): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const mount = routeMounter(app, '/api/users', deps.db);
  mount(R.sshKeyList, ({ c }) => listSshKeys(deps.db, c.get('principal').userId));
  mount(R.sshKeyAdd, ({ c, body }) => addSshKey(deps.db, c.get('principal').userId, body.publicKey, body.name, deps.clock.now()));
  mount(R.sshKeyDelete, async ({ c, params }) => {
    if (!(await deleteSshKey(deps.db, c.get('principal').userId, params.keyId))) throw new EdgehookError('NOT_FOUND', 'no such key');
    return null;
  });
  return app;
}
