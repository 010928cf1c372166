import { Hono } from 'hono';
import type { Kysely } from 'kysely';
import { EdgehookError, passwordProblem, type Clock } from '@edgehook/shared';
import { CoreRoutes as R } from '@edgehook/shared/rest';
import type { Database } from '../db/database.js';
import type { AppEnv } from '../http/context.js';
import { can } from '../auth/authenticator.js';
import { hashPassword } from '../auth/passwords.js';
import { revokeUserSessions } from '../auth/sessions.repository.js';
import { routeMounter } from '../http/rest-route.js';
import { clientAddress } from '../http/client-address.js';
import type { Authenticator } from '../auth/authenticator.js';
import type { RevocationSink } from '../auth/revocations.js';
import { findRole } from './roles.repository.js';
import { deleteUser, findUserById, insertUser, listUsers, toUserView, updateTotp, updateUser } from '../auth/users.repository.js';


function isUniqueViolation(err: unknown): boolean {
  const text = err instanceof Error ? err.message : String(err);
  return /UNIQUE|duplicate key/i.test(text);
}

/** The policy's context rule: a password may not be the account's own name or address. */
function checkPolicy(password: string, context: (string | null | undefined)[]): void {
  const problem = passwordProblem(password, context.filter((x): x is string => typeof x === 'string'));
  if (problem) throw new EdgehookError('BAD_REQUEST', `invalid request body: password: ${problem}`);
}

export function usersRoutes(deps: { db: Kysely<Database>; clock: Clock; auth: Authenticator; revocations: RevocationSink }): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const { db, clock } = deps;

  async function resolveRole(ref: { roleId?: string | undefined; roleName?: string | undefined }): Promise<string> {
    const role = await findRole(db, { id: ref.roleId, name: ref.roleName });
    if (!role) throw new EdgehookError('BAD_REQUEST', `unknown role ${ref.roleId ?? ref.roleName ?? ''}`);
    return role.id;
  }

  const mount = routeMounter(app, '/api/users', db);
  mount(R.userList, async () => (await listUsers(db)).map(toUserView));

  mount(R.userCreate, async ({ body: input }) => {
    const roleId = await resolveRole(input);
    checkPolicy(input.password, [input.username, input.email]);
    try {
      const id = await insertUser(db, { username: input.username, email: input.email ?? null, passwordHash: await hashPassword(input.password), roleId }, clock.now());
      const user = await findUserById(db, id);
      if (!user) throw new EdgehookError('INTERNAL', 'user vanished after creation');
      return toUserView(user);
    } catch (err) {
      if (isUniqueViolation(err)) throw new EdgehookError('CONFLICT', 'a user with this username or email exists');
      throw err;
    }
  });

  mount(R.userGet, async ({ c, params: { id } }) => {
    const principal = c.get('principal');
    if (id !== principal.userId && !can(principal, 'users.read')) throw new EdgehookError('FORBIDDEN', 'your role lacks the permission users.read');
    const user = await findUserById(db, id);
    if (!user) throw new EdgehookError('NOT_FOUND', 'no such user');
    return toUserView(user);
  });

  // Users may change their own password and email; everything else needs users.admin.
  mount(R.userUpdate, async ({ c, params: { id }, body: patch }) => {
    const principal = c.get('principal');
    const admin = can(principal, 'users.admin');
    const selfOnly = patch.username === undefined && patch.roleId === undefined && patch.roleName === undefined;
    if (!admin && !(id === principal.userId && selfOnly)) throw new EdgehookError('FORBIDDEN', 'your role lacks the permission users.admin');
    const existing = await findUserById(db, id);
    if (!existing) throw new EdgehookError('NOT_FOUND', 'no such user');
    const changes: { username?: string; email?: string | null; passwordHash?: string; roleId?: string } = {};
    if (patch.username !== undefined) changes.username = patch.username;
    if (patch.email !== undefined) changes.email = patch.email;
    if (patch.password !== undefined) {
      checkPolicy(patch.password, [patch.username ?? existing.username, existing.email, patch.email]);
      // Changing one's own password needs the current one (a stolen session cannot take the account).
      if (id === principal.userId) {
        if (patch.currentPassword === undefined) throw new EdgehookError('BAD_REQUEST', 'send currentPassword to change your own password');
        if (!(await deps.auth.guard.checkCurrentPassword(existing, patch.currentPassword, clientAddress(c)))) throw new EdgehookError('INVALID_CREDENTIALS', 'the current password is wrong');
      }
      changes.passwordHash = await hashPassword(patch.password);
    }
    if (patch.roleId !== undefined || patch.roleName !== undefined) changes.roleId = await resolveRole(patch);
    try {
      await updateUser(db, id, changes, clock.now());
    } catch (err) {
      if (isUniqueViolation(err)) throw new EdgehookError('CONFLICT', 'a user with this username or email exists');
      throw err;
    }
    // A new password or role ends existing sessions, so old tokens cannot keep old rights.
    // Every live socket of the user closes too, on every replica, password-authenticated ones included.
    if (changes.passwordHash !== undefined || changes.roleId !== undefined) {
      await revokeUserSessions(db, id, clock.now());
      await deps.revocations.announce({ type: 'user', userId: id, reason: changes.passwordHash !== undefined ? 'password changed' : 'role changed' });
    }
    const user = await findUserById(db, id);
    if (!user) throw new EdgehookError('NOT_FOUND', 'no such user');
    return toUserView(user);
  });

  mount(R.userDelete, async ({ c, params: { id } }) => {
    if (id === c.get('principal').userId) throw new EdgehookError('CONFLICT', 'you cannot delete yourself');
    const existing = await findUserById(db, id);
    if (!existing) throw new EdgehookError('NOT_FOUND', 'no such user');
    await deleteUser(db, id);
    await deps.revocations.announce({ type: 'user', userId: id, reason: 'user deleted' });
    return null;
  });

  // An administrator resets a user's lost second factor; the user's sessions end with it.
  mount(R.userTotpReset, async ({ params: { id } }) => {
    if (!(await findUserById(db, id))) throw new EdgehookError('NOT_FOUND', 'no such user');
    await updateTotp(db, id, { secret: null, pending: null, recoveryCodes: null, lastStep: null });
    await revokeUserSessions(db, id, clock.now());
    await deps.revocations.announce({ type: 'user', userId: id, reason: 'second factor reset' });
    return { ok: true as const };
  });

  return app;
}
