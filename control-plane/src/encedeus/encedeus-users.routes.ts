import { Hono, type Context } from 'hono';
import {
  EdgehookError,
  Email,
  EncedeusChangeEmail,
  EncedeusChangePassword,
  EncedeusChangeUsername,
  EncedeusUserCreate,
  EncedeusUserUpdate,
  Password,
  UpdateUser,
  Username,
} from '@edgehook/shared';
import type { AppEnv } from '../http/context.js';
import { parseValue } from '../http/validate.js';
import { can } from '../auth/authenticator.js';
import { EncedeusRoutes as R } from '@edgehook/shared/rest';
import { hashPassword } from '../auth/passwords.js';
import { revokeUserSessions } from '../auth/sessions.repository.js';
import { findRole } from '../users/roles.repository.js';
import { deleteUser, findUserById, insertUser, listUsers, updateUser, type UserWithRole } from '../auth/users.repository.js';
import { avatarResponse, findAvatar, storeAvatar } from '../users/avatars.repository.js';
import { avatarBodyLimit, mayEditAvatar, readImageUpload } from '../users/avatars.routes.js';
import { encedeusBody, encedeusMounter, encedeusUser, given, pathUuid } from './encedeus-http.js';
import type { EncedeusDeps } from './encedeus.routes.js';
import { clientAddress } from '../http/client-address.js';

const isUniqueViolation = (err: unknown): boolean => /UNIQUE|duplicate key/i.test(err instanceof Error ? err.message : String(err));

/**
 * /user: today's js-api calls (POST /user, PATCH /user, /user/:id/change*) and the seed's
 * (POST /user/create, PUT /user multipart picture, GET /user/pfp/:uuid). Thin over users/.
 */
export function encedeusUsersRoutes(deps: EncedeusDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const { db, clock } = deps;
  const mount = encedeusMounter(app, '/user', db);

  async function mustFind(id: string): Promise<UserWithRole> {
    const user = await findUserById(db, id);
    if (!user) throw new EdgehookError('NOT_FOUND', 'user not found');
    return user;
  }
  async function resolveRole(id: string | undefined, name: string | undefined): Promise<string> {
    const role = await findRole(db, id !== undefined ? { id: pathUuid(id) } : { name });
    if (!role) throw new EdgehookError('NOT_FOUND', 'role not found');
    return role.id;
  }
  function selfOrAdmin(c: Context<AppEnv>, id: string): void {
    const principal = c.get('principal');
    if (id !== principal.userId && !can(principal, 'users.admin')) throw new EdgehookError('FORBIDDEN', 'unauthorised: your role lacks the permission users.admin');
  }

  mount(R.encUsersOfRole, async ({ c, params }) => {
    const roleId = pathUuid(params.id);
    return c.json({ users: (await listUsers(db)).filter((u) => u.roleId === roleId).map(encedeusUser) });
  });

  mount(R.encPfp, async ({ c, params }) => {
    const avatar = await findAvatar(db, pathUuid(params.uuid));
    if (!avatar) throw new EdgehookError('NOT_FOUND', 'this user has no profile picture');
    return avatarResponse(c, avatar);
  });

  mount(R.encUserGet, async ({ c, params }) => {
    const id = pathUuid(params.id);
    const principal = c.get('principal');
    if (id !== principal.userId && !can(principal, 'users.read')) throw new EdgehookError('FORBIDDEN', 'unauthorised: your role lacks the permission users.read');
    return c.json({ user: encedeusUser(await mustFind(id)) });
  });

  const create = async (c: Context<AppEnv>): Promise<Response> => {
    const body = await encedeusBody(c, EncedeusUserCreate);
    const name = given(body.name);
    const password = given(body.password);
    const email = given(body.email);
    const roleId = given(body.roleId) ?? given(body.role_id);
    const roleName = given(body.roleName) ?? given(body.role_name);
    if (!name || !password || !email || (!roleId && !roleName)) throw new EdgehookError('BAD_REQUEST', 'bad request: name, email, password and a role (id or name) are required');
    const username = parseValue(Username, name.trim(), 'name');
    const address = parseValue(Email, email.trim(), 'email');
    const secret = parseValue(Password, password, 'password');
    const role = await resolveRole(roleId, roleName);
    try {
      const id = await insertUser(db, { username, email: address, passwordHash: await hashPassword(secret), roleId: role }, clock.now());
      return c.json({ user: encedeusUser(await mustFind(id)) });
    } catch (err) {
      if (isUniqueViolation(err)) throw new EdgehookError('CONFLICT', 'username taken');
      throw err;
    }
  };
  mount(R.encUserCreate, ({ c }) => create(c));
  mount(R.encUserCreateAlias, ({ c }) => create(c));

  // The seed's picture upload (and js-api's setPfp, which also sends `uuid`): no uuid means the caller.
  mount(R.encPfpPut, async ({ c }) => {
    const { bytes, fields } = await readImageUpload(c);
    const id = fields['uuid'] ? pathUuid(fields['uuid']) : c.get('principal').userId;
    mayEditAvatar(c, id);
    await mustFind(id);
    await storeAvatar(db, id, bytes, clock.now());
    return c.body(null, 200);
  }, { before: [avatarBodyLimit()] });

  mount(R.encUserUpdate, async ({ c }) => {
    const body = await encedeusBody(c, EncedeusUserUpdate);
    const rawId = given(body.userId) ?? given(body.id);
    if (rawId === undefined) throw new EdgehookError('BAD_REQUEST', 'bad request: give the user id (userId.value or id)');
    const id = pathUuid(rawId);
    const roleId = given(body.roleId) ?? given(body.role_id);
    const roleName = given(body.roleName) ?? given(body.role_name);
    const patch = parseValue(UpdateUser, { username: given(body.name), email: given(body.email), password: given(body.password) }, 'user');
    if (patch.username === undefined && patch.email === undefined && patch.password === undefined && !roleId && !roleName) {
      throw new EdgehookError('BAD_REQUEST', 'bad request: nothing to change');
    }
    await mustFind(id);
    const changes: { username?: string; email?: string | null; passwordHash?: string; roleId?: string } = {};
    if (patch.username !== undefined) changes.username = patch.username;
    if (patch.email !== undefined) changes.email = patch.email;
    if (patch.password !== undefined) changes.passwordHash = await hashPassword(patch.password);
    if (roleId || roleName) changes.roleId = await resolveRole(roleId, roleName);
    try {
      await updateUser(db, id, changes, clock.now());
    } catch (err) {
      if (isUniqueViolation(err)) throw new EdgehookError('BAD_REQUEST', 'validate error: username or email taken');
      throw err;
    }
    // As /api/users: a new password or role ends the user's sessions.
    if (changes.passwordHash !== undefined || changes.roleId !== undefined) {
      await revokeUserSessions(db, id, clock.now());
      deps.auth.forget({ type: 'user', userId: id, reason: 'sessions revoked' });
    }
    return c.json({ user: encedeusUser(await mustFind(id)) });
  });

  mount(R.encUserDelete, async ({ c, params }) => {
    const id = pathUuid(params.id);
    if (id === c.get('principal').userId) throw new EdgehookError('CONFLICT', 'you cannot delete yourself');
    await mustFind(id);
    await deleteUser(db, id);
    return c.body(null, 200);
  });

  mount(R.encChangePassword, async ({ c, params }) => {
    const id = pathUuid(params.id);
    selfOrAdmin(c, id);
    const body = await encedeusBody(c, EncedeusChangePassword);
    const user = await mustFind(id);
    const next = parseValue(Password, body.newPassword, 'new password');
    // The same check (and throttle) as every login.
    if (!(await deps.auth.guard.checkCurrentPassword(user, body.oldPassword, clientAddress(c)))) throw new EdgehookError('FORBIDDEN', 'old password does not match');
    if (body.oldPassword === next) throw new EdgehookError('BAD_REQUEST', 'the new password equals the old one');
    await updateUser(db, id, { passwordHash: await hashPassword(next) }, clock.now());
    // Other sessions end; the caller's own stays, as Encedeus's (whose tokens are stateless) does.
    await revokeUserSessions(db, id, clock.now(), c.get('principal').sessionId ?? undefined);
    deps.auth.forget({ type: 'user', userId: id, reason: 'sessions revoked' });
    return c.body(null, 200);
  });

  mount(R.encChangeEmail, async ({ c, params }) => {
    const id = pathUuid(params.id);
    selfOrAdmin(c, id);
    const body = await encedeusBody(c, EncedeusChangeEmail);
    const user = await mustFind(id);
    const next = parseValue(Email, body.newEmail.trim(), 'new email');
    if ((user.email ?? '') !== body.oldEmail.trim().toLowerCase()) throw new EdgehookError('BAD_REQUEST', 'old email does not match');
    if (user.email === next.toLowerCase()) throw new EdgehookError('BAD_REQUEST', 'the new email equals the old one');
    await changeOrTaken(() => updateUser(db, id, { email: next }, clock.now()), 'email already taken');
    return c.body(null, 200);
  });

  mount(R.encChangeUsername, async ({ c, params }) => {
    const id = pathUuid(params.id);
    selfOrAdmin(c, id);
    const body = await encedeusBody(c, EncedeusChangeUsername);
    const user = await mustFind(id);
    const next = parseValue(Username, body.newUsername.trim(), 'new username');
    if (user.username !== body.oldUsername.trim()) throw new EdgehookError('BAD_REQUEST', 'old username does not match');
    if (user.username === next) throw new EdgehookError('BAD_REQUEST', 'the new username equals the old one');
    await changeOrTaken(() => updateUser(db, id, { username: next }, clock.now()), 'username already taken');
    return c.body(null, 200);
  });

  return app;
}

// js-api reads only 400/403/404/500 from change*: a 409 would look like success, so "taken" is a 400.
async function changeOrTaken(change: () => Promise<void>, message: string): Promise<void> {
  try {
    await change();
  } catch (err) {
    if (isUniqueViolation(err)) throw new EdgehookError('BAD_REQUEST', message);
    throw err;
  }
}
