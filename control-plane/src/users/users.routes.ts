import { Hono } from 'hono';
import { z } from 'zod';
import type { Kysely } from 'kysely';
import { CreateUser, EdgehookError, UpdateUser, type Clock } from '@edgehook/shared';
import type { Database } from '../db/database.js';
import type { AppEnv } from '../http/context.js';
import { can } from '../auth/authenticator.js';
import { requirePermission } from '../auth/auth.middleware.js';
import { hashPassword } from '../auth/passwords.js';
import { revokeUserSessions } from '../auth/sessions.repository.js';
import { jsonBody } from '../http/validate.js';
import { findRole } from './roles.repository.js';
import { deleteUser, findUserById, insertUser, listUsers, toUserView, updateUser } from './users.repository.js';

/** Encedeus clients send `name`, `role_id`, `role_name`; accept them beside our own names. */
function encedeusAliases(body: unknown): unknown {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return body;
  const out: Record<string, unknown> = { ...body };
  const rename = (from: string, to: string): void => {
    if (from in out) {
      if (!(to in out)) out[to] = out[from];
      delete out[from];
    }
  };
  rename('name', 'username');
  rename('role_id', 'roleId');
  rename('role_name', 'roleName');
  delete out['id'];
  return out;
}

const CreateUserCompat = z.preprocess(encedeusAliases, CreateUser);
const UpdateUserCompat = z.preprocess(encedeusAliases, UpdateUser);

function isUniqueViolation(err: unknown): boolean {
  const text = err instanceof Error ? err.message : String(err);
  return /UNIQUE|duplicate key/i.test(text);
}

export function usersRoutes(deps: { db: Kysely<Database>; clock: Clock }): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const { db, clock } = deps;

  async function resolveRole(ref: { roleId?: string | undefined; roleName?: string | undefined }): Promise<string> {
    const role = await findRole(db, { id: ref.roleId, name: ref.roleName });
    if (!role) throw new EdgehookError('BAD_REQUEST', `unknown role ${ref.roleId ?? ref.roleName ?? ''}`);
    return role.id;
  }

  app.get('/', requirePermission('users.read'), async (c) => c.json((await listUsers(db)).map(toUserView)));

  app.post('/', requirePermission('users.admin'), async (c) => {
    const input = await jsonBody(c, CreateUserCompat);
    const roleId = await resolveRole(input);
    try {
      const id = await insertUser(db, { username: input.username, email: input.email ?? null, passwordHash: await hashPassword(input.password), roleId }, clock.now());
      const user = await findUserById(db, id);
      if (!user) throw new EdgehookError('INTERNAL', 'user vanished after creation');
      return c.json(toUserView(user), 201);
    } catch (err) {
      if (isUniqueViolation(err)) throw new EdgehookError('CONFLICT', 'a user with this username or email exists');
      throw err;
    }
  });

  app.get('/:id', async (c) => {
    const principal = c.get('principal');
    const id = c.req.param('id');
    if (id !== principal.userId && !can(principal, 'users.read')) throw new EdgehookError('FORBIDDEN', 'your role lacks the permission users.read');
    const user = await findUserById(db, id);
    if (!user) throw new EdgehookError('NOT_FOUND', 'no such user');
    return c.json(toUserView(user));
  });

  // Users may change their own password and email; everything else needs users.admin.
  app.patch('/:id', async (c) => {
    const principal = c.get('principal');
    const id = c.req.param('id');
    const patch = await jsonBody(c, UpdateUserCompat);
    const admin = can(principal, 'users.admin');
    const selfOnly = patch.username === undefined && patch.roleId === undefined && patch.roleName === undefined;
    if (!admin && !(id === principal.userId && selfOnly)) throw new EdgehookError('FORBIDDEN', 'your role lacks the permission users.admin');
    const existing = await findUserById(db, id);
    if (!existing) throw new EdgehookError('NOT_FOUND', 'no such user');
    const changes: { username?: string; email?: string | null; passwordHash?: string; roleId?: string } = {};
    if (patch.username !== undefined) changes.username = patch.username;
    if (patch.email !== undefined) changes.email = patch.email;
    if (patch.password !== undefined) changes.passwordHash = await hashPassword(patch.password);
    if (patch.roleId !== undefined || patch.roleName !== undefined) changes.roleId = await resolveRole(patch);
    try {
      await updateUser(db, id, changes, clock.now());
    } catch (err) {
      if (isUniqueViolation(err)) throw new EdgehookError('CONFLICT', 'a user with this username or email exists');
      throw err;
    }
    // A new password or role ends existing sessions, so old tokens cannot keep old rights.
    if (changes.passwordHash !== undefined || changes.roleId !== undefined) await revokeUserSessions(db, id, clock.now());
    const user = await findUserById(db, id);
    if (!user) throw new EdgehookError('NOT_FOUND', 'no such user');
    return c.json(toUserView(user));
  });

  app.delete('/:id', requirePermission('users.admin'), async (c) => {
    const id = c.req.param('id');
    if (id === c.get('principal').userId) throw new EdgehookError('CONFLICT', 'you cannot delete yourself');
    const existing = await findUserById(db, id);
    if (!existing) throw new EdgehookError('NOT_FOUND', 'no such user');
    await deleteUser(db, id);
    return c.body(null, 204);
  });

  return app;
}
