import { Hono } from 'hono';
import type { Kysely } from 'kysely';
import { EdgehookError, SshKeyCreate, type Clock } from '@edgehook/shared';
import type { Database } from '../db/database.js';
import type { AppEnv } from '../http/context.js';
import { jsonBody } from '../http/validate.js';
import { addSshKey, deleteSshKey, listSshKeys } from './ssh-keys.repository.js';

/** `/api/users/me/ssh-keys`: the caller's SSH public keys for SFTP (docs/sftp.md). */
export function sshKeysRoutes(deps: { db: Kysely<Database>; clock: Clock }): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.get('/me/ssh-keys', async (c) => c.json(await listSshKeys(deps.db, c.get('principal').userId)));
  app.post('/me/ssh-keys', async (c) => {
    const body = await jsonBody(c, SshKeyCreate);
    return c.json(await addSshKey(deps.db, c.get('principal').userId, body.publicKey, body.name, deps.clock.now()), 201);
  });
  app.delete('/me/ssh-keys/:keyId', async (c) => {
    if (!(await deleteSshKey(deps.db, c.get('principal').userId, c.req.param('keyId')))) throw new EdgehookError('NOT_FOUND', 'no such key');
    return c.body(null, 204);
  });
  return app;
}
