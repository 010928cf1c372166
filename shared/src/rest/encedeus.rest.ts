import * as z from '../zod.js';
import { EncedeusChangeEmail, EncedeusChangePassword, EncedeusChangeUsername, EncedeusLogin, EncedeusRefreshResponse, EncedeusRoleCreate, EncedeusRoleRef, EncedeusRoleResponse, EncedeusRolesResponse, EncedeusRoleUpdate, EncedeusSignInResponse, EncedeusUserCreate, EncedeusUserResponse, EncedeusUsersResponse, EncedeusUserUpdate } from '../messages/encedeus.js';
import { NoContent, RawBytes, route, SIGNED_IN, type RouteSpec } from './route.js';

const Id = z.string().check(z.minLength(1), z.maxLength(64), z.describe('uuid'));
type Spec = Omit<RouteSpec, 'tag' | 'errors' | 'auth'> & { auth?: RouteSpec['auth'] };
const e = <const S extends Spec>(spec: S) => route({ tag: 'encedeus', errors: 'encedeus', auth: SIGNED_IN, ...spec });

/**
 * Encedeus's backend API (docs/encedeus.md): `/auth`, `/user`, `/role` at the root by default
 * (`--encedeus-prefix` moves them), `{message}` errors, its field names and status codes.
 */
export const EncedeusRoutes = {
  encSignIn: e({ method: 'POST', path: '/auth/signin', summary: 'Sign in (uid, username or email); sets encedeus_refreshToken', auth: ['none'], permission: null, body: EncedeusLogin, result: EncedeusSignInResponse, status: 201 }),
  encLogin: e({ method: 'POST', path: '/auth/login', summary: 'Sign in (200)', auth: ['none'], permission: null, body: EncedeusLogin, result: EncedeusSignInResponse }),
  encRefresh: e({ method: 'GET', path: '/auth/refresh', summary: 'A new access token from the refresh cookie or bearer', auth: ['cookie', 'bearer'], permission: null, result: EncedeusRefreshResponse }),
  encSignOut: e({ method: 'DELETE', path: '/auth/signout', summary: 'End the session', auth: ['cookie', 'bearer'], permission: null, result: NoContent, resultKind: 'empty' }),
  encUsersOfRole: e({ method: 'GET', path: '/user/role/:id', summary: 'Users with a role', permission: 'users.read', params: { id: Id }, result: EncedeusUsersResponse }),
  encPfp: e({ method: 'GET', path: '/user/pfp/:uuid', summary: "A user's picture", permission: null, params: { uuid: Id }, result: RawBytes, resultKind: 'binary' }),
  encUserGet: e({ method: 'GET', path: '/user/:id', summary: 'A user', permission: 'self', params: { id: Id }, result: EncedeusUserResponse }),
  encUserCreate: e({ method: 'POST', path: '/user', summary: 'Create a user', permission: 'users.admin', body: EncedeusUserCreate, result: EncedeusUserResponse }),
  encUserCreateAlias: e({ method: 'POST', path: '/user/create', summary: 'Create a user', permission: 'users.admin', body: EncedeusUserCreate, result: EncedeusUserResponse }),
  encPfpPut: e({ method: 'PUT', path: '/user', summary: 'Upload a picture (multipart pfp, uuid)', permission: 'self', bodyKind: 'form', body: z.object({ uuid: z.optional(z.string()), pfp: z.unknown() }), result: NoContent, resultKind: 'empty' }),
  encUserUpdate: e({ method: 'PATCH', path: '/user', summary: 'Change a user', permission: 'users.admin', body: EncedeusUserUpdate, result: EncedeusUserResponse }),
  encUserDelete: e({ method: 'DELETE', path: '/user/:id', summary: 'Delete a user', permission: 'users.admin', params: { id: Id }, result: NoContent, resultKind: 'empty' }),
  encChangePassword: e({ method: 'PATCH', path: '/user/:id/changePassword', summary: 'Change a password', permission: 'self', params: { id: Id }, body: EncedeusChangePassword, result: NoContent, resultKind: 'empty' }),
  encChangeEmail: e({ method: 'PATCH', path: '/user/:id/changeEmail', summary: 'Change an email', permission: 'self', params: { id: Id }, body: EncedeusChangeEmail, result: NoContent, resultKind: 'empty' }),
  encChangeUsername: e({ method: 'PATCH', path: '/user/:id/changeUsername', summary: 'Change a username', permission: 'self', params: { id: Id }, body: EncedeusChangeUsername, result: NoContent, resultKind: 'empty' }),
  encRoles: e({ method: 'GET', path: '/role', summary: 'Roles (or one, by a body id)', permission: 'users.read', result: z.union([EncedeusRolesResponse, EncedeusRoleResponse]) }),
  encRoleGet: e({ method: 'GET', path: '/role/:id', summary: 'A role', permission: 'users.read', params: { id: Id }, result: EncedeusRoleResponse }),
  encRoleCreate: e({ method: 'POST', path: '/role', summary: 'Create a role', permission: 'users.admin', body: EncedeusRoleCreate, result: EncedeusRoleResponse }),
  encRoleUpdate: e({ method: 'PATCH', path: '/role', summary: 'Change a role', permission: 'users.admin', body: EncedeusRoleUpdate, result: EncedeusRoleResponse }),
  encRoleDeleteBody: e({ method: 'DELETE', path: '/role', summary: 'Delete a role (id in the body)', permission: 'users.admin', body: EncedeusRoleRef, result: NoContent, resultKind: 'empty' }),
  encRoleDelete: e({ method: 'DELETE', path: '/role/:id', summary: 'Delete a role', permission: 'users.admin', params: { id: Id }, result: NoContent, resultKind: 'empty' }),
} as const;
