import * as z from '../zod.js';
import { HealthStatus } from '../messages/health.js';
import { CreateRole, CreateUser, LoginJson, RoleView, SshKeyCreate, SshKeyView, TokenPair, TotpActivated, TotpCode, TotpDisable, TotpEnrollment, UpdateRole, UpdateUser, UserView } from '../messages/auth.js';
import { AuditPage, AuditQuery } from '../messages/audit.js';
import { CreateEnrollmentToken, CreatedEnrollmentToken, EnrollmentTokenView, EnrollResponse, ReprovisionRequest, ReprovisionResponse } from '../messages/enrollment.js';
import { DeviceDescription } from '../messages/device.js';
import { ANONYMOUS, NoContent, Ok, RawBytes, RawText, route, SIGNED_IN } from './route.js';

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

export const CreateUserCompat = z.pipe(z.transform(encedeusAliases), CreateUser);
export const UpdateUserCompat = z.pipe(z.transform(encedeusAliases), UpdateUser);

const Id = (what: string) => z.string().check(z.minLength(1), z.maxLength(256), z.describe(what));

/** The session, the caller's own account, users, roles, audit, enrollment: `/api/...`. */
export const CoreRoutes = {
  health: route({ method: 'GET', path: '/api/health', summary: 'Liveness and store health (503 when unhealthy)', tag: 'system', auth: ANONYMOUS, permission: null, result: HealthStatus }),

  login: route({ method: 'POST', path: '/api/auth/login', summary: 'Sign in (JSON {username, password} or form user/passwd); sets the session cookies', tag: 'auth', auth: ANONYMOUS, permission: null, body: LoginJson, result: TokenPair }),
  refreshPost: route({ method: 'POST', path: '/api/auth/refresh', summary: 'New tokens from the refresh token (body or cookie)', tag: 'auth', auth: ANONYMOUS, permission: null, result: TokenPair }),
  refreshGet: route({ method: 'GET', path: '/api/auth/refresh', summary: 'New tokens from the refresh cookie', tag: 'auth', auth: ['cookie'], permission: null, result: TokenPair }),
  check: route({ method: 'GET', path: '/api/auth/check', summary: 'Who am I', tag: 'auth', auth: SIGNED_IN, permission: null, result: z.object({ ok: z.literal(true), user: UserView, totpEnrollmentRequired: z.optional(z.literal(true)) }) }),
  logout: route({ method: 'POST', path: '/api/auth/logout', summary: 'End this session (its sockets close too)', tag: 'auth', auth: SIGNED_IN, permission: null, result: Ok }),
  totpEnroll: route({ method: 'POST', path: '/api/auth/totp/enroll', summary: 'Start two-factor enrollment', tag: 'auth', auth: SIGNED_IN, permission: null, result: TotpEnrollment }),
  totpVerify: route({ method: 'POST', path: '/api/auth/totp/verify', summary: 'Confirm enrollment with a code; answers recovery codes', tag: 'auth', auth: SIGNED_IN, permission: null, body: TotpCode, result: TotpActivated }),
  totpDisable: route({ method: 'DELETE', path: '/api/auth/totp', summary: 'Turn two-factor off (code or password)', tag: 'auth', auth: SIGNED_IN, permission: null, body: TotpDisable, result: Ok }),

  enroll: route({ method: 'POST', path: '/api/enroll', summary: 'A device enrolls with a one-time token (Authorization: Bearer <enrollment token>)', tag: 'devices', auth: ['bearer'], permission: null, body: DeviceDescription, result: EnrollResponse, status: 201 }),
  enrollReprovision: route({ method: 'POST', path: '/api/enroll/reprovision', summary: 'A device whose broker identity was lost restores it, proving itself with its own secret (in the body)', tag: 'devices', auth: ANONYMOUS, permission: null, body: ReprovisionRequest, result: ReprovisionResponse }),
  enrollmentTokenCreate: route({ method: 'POST', path: '/api/enrollment-tokens', summary: 'Create an enrollment token and its install command', tag: 'devices', auth: SIGNED_IN, permission: 'devices.enroll', body: CreateEnrollmentToken, result: CreatedEnrollmentToken, status: 201 }),
  enrollmentTokenList: route({ method: 'GET', path: '/api/enrollment-tokens', summary: 'Enrollment tokens', tag: 'devices', auth: SIGNED_IN, permission: 'devices.enroll', result: z.array(EnrollmentTokenView) }),
  enrollmentTokenDelete: route({ method: 'DELETE', path: '/api/enrollment-tokens/:id', summary: 'Revoke an enrollment token', tag: 'devices', auth: SIGNED_IN, permission: 'devices.enroll', params: { id: Id('token id') }, result: NoContent, resultKind: 'empty', status: 204 }),

  userList: route({ method: 'GET', path: '/api/users', summary: 'Users', tag: 'users', auth: SIGNED_IN, permission: 'users.read', result: z.array(UserView) }),
  userCreate: route({ method: 'POST', path: '/api/users', summary: 'Create a user (Encedeus field aliases accepted)', tag: 'users', auth: SIGNED_IN, permission: 'users.admin', body: CreateUserCompat, result: UserView, status: 201 }),
  userGet: route({ method: 'GET', path: '/api/users/:id', summary: 'A user (oneself, or any with users.read)', tag: 'users', auth: SIGNED_IN, permission: 'self', params: { id: Id('user id') }, result: UserView }),
  userUpdate: route({ method: 'PATCH', path: '/api/users/:id', summary: 'Change a user (oneself: password with currentPassword)', tag: 'users', auth: SIGNED_IN, permission: 'self', params: { id: Id('user id') }, body: UpdateUserCompat, result: UserView }),
  userDelete: route({ method: 'DELETE', path: '/api/users/:id', summary: 'Delete a user', tag: 'users', auth: SIGNED_IN, permission: 'users.admin', params: { id: Id('user id') }, result: NoContent, resultKind: 'empty', status: 204 }),
  userTotpReset: route({ method: 'DELETE', path: '/api/users/:id/totp', summary: "Reset a user's two-factor", tag: 'users', auth: SIGNED_IN, permission: 'users.admin', params: { id: Id('user id') }, result: Ok }),
  avatarGet: route({ method: 'GET', path: '/api/users/:id/avatar', summary: "A user's picture", tag: 'users', auth: SIGNED_IN, permission: null, params: { id: Id('user id') }, result: RawBytes, resultKind: 'binary' }),
  avatarPut: route({ method: 'PUT', path: '/api/users/:id/avatar', summary: 'Set a picture (PNG, JPEG, GIF, WebP; at most 1 MiB)', tag: 'users', auth: SIGNED_IN, permission: 'self', params: { id: Id('user id') }, body: RawBytes, bodyKind: 'binary', result: z.object({ mime: z.string(), etag: z.string(), bytes: z.number() }) }),
  avatarDelete: route({ method: 'DELETE', path: '/api/users/:id/avatar', summary: 'Remove a picture', tag: 'users', auth: SIGNED_IN, permission: 'self', params: { id: Id('user id') }, result: NoContent, resultKind: 'empty', status: 204 }),
  sshKeyList: route({ method: 'GET', path: '/api/users/me/ssh-keys', summary: 'My SSH keys (SFTP logins)', tag: 'users', auth: SIGNED_IN, permission: null, result: z.array(SshKeyView) }),
  sshKeyAdd: route({ method: 'POST', path: '/api/users/me/ssh-keys', summary: 'Add an SSH public key', tag: 'users', auth: SIGNED_IN, permission: null, body: SshKeyCreate, result: SshKeyView, status: 201 }),
  sshKeyDelete: route({ method: 'DELETE', path: '/api/users/me/ssh-keys/:keyId', summary: 'Remove an SSH key', tag: 'users', auth: SIGNED_IN, permission: null, params: { keyId: Id('key id') }, result: NoContent, resultKind: 'empty', status: 204 }),

  roleList: route({ method: 'GET', path: '/api/roles', summary: 'Roles', tag: 'users', auth: SIGNED_IN, permission: 'users.read', result: z.array(RoleView) }),
  roleGet: route({ method: 'GET', path: '/api/roles/:id', summary: 'A role', tag: 'users', auth: SIGNED_IN, permission: 'users.read', params: { id: Id('role id') }, result: RoleView }),
  roleCreate: route({ method: 'POST', path: '/api/roles', summary: 'Create a role', tag: 'users', auth: SIGNED_IN, permission: 'users.admin', body: CreateRole, result: RoleView, status: 201 }),
  roleUpdate: route({ method: 'PATCH', path: '/api/roles/:id', summary: 'Change a role', tag: 'users', auth: SIGNED_IN, permission: 'users.admin', params: { id: Id('role id') }, body: UpdateRole, result: RoleView }),
  roleDelete: route({ method: 'DELETE', path: '/api/roles/:id', summary: 'Delete an unused role', tag: 'users', auth: SIGNED_IN, permission: 'users.admin', params: { id: Id('role id') }, result: NoContent, resultKind: 'empty', status: 204 }),

  audit: route({ method: 'GET', path: '/api/audit', summary: 'The audit log, newest first, paged', tag: 'audit', auth: SIGNED_IN, permission: 'audit.read', query: AuditQuery, result: AuditPage }),

  installScript: route({ method: 'GET', path: '/install.sh', summary: 'The agent installer script', tag: 'install', auth: ANONYMOUS, permission: null, result: RawText, resultKind: 'text' }),
  installDownload: route({ method: 'GET', path: '/downloads/:file', summary: 'An agent package file', tag: 'install', auth: ANONYMOUS, permission: null, params: { file: z.string().check(z.minLength(1), z.maxLength(255), z.describe('file name')) }, result: RawBytes, resultKind: 'binary' }),
  openapi: route({ method: 'GET', path: '/api/openapi.json', summary: 'This document (OpenAPI 3.1)', tag: 'system', auth: ANONYMOUS, permission: null, result: z.record(z.string(), z.unknown()) }),
  docs: route({ method: 'GET', path: '/docs/*', summary: 'Interactive API docs (Swagger UI)', tag: 'system', auth: ANONYMOUS, permission: null, result: RawText, resultKind: 'text' }),
} as const;
