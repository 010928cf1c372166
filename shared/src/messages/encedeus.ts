import * as z from '../zod.js';
import { isValidGrant } from '../permissions.js';

/**
 * Encedeus's REST API as its clients speak it (github.com/Encedeus/js-api, Encedeus/panel) and as
 * the seed spec documents it. Two generations share the paths: the seed's snake_case bodies with
 * plain ids, and today's protobuf-JSON bodies with ids as `{value}`. Mapping: docs/encedeus.md.
 */

/** An id as the seed sends it (a string) or as ts-proto objects carry it (`{value}`). */
export const EncedeusId = z.union([z.string().check(z.maxLength(100)), z.pipe(z.object({ value: z.string().check(z.maxLength(100)) }), z.transform((v) => v.value))]);
const Text = z.string().check(z.maxLength(256));
// ts-proto objects carry every field; unset ones are "" or undefined/null.
const optional = <S extends z.ZodMiniType>(s: S) => z.optional(z.nullable(s));

/** POST /auth/signin ({uid, password}) and the seed's POST /auth/login ({email|username, password}). */
export const EncedeusLogin = z.object({
  uid: optional(Text),
  username: optional(Text),
  email: optional(Text),
  password: z.string().check(z.maxLength(256)),
});

export const EncedeusUserCreate = z.object({
  name: optional(Text),
  email: optional(Text),
  password: optional(Text),
  roleId: optional(EncedeusId),
  roleName: optional(Text),
  role_id: optional(EncedeusId),
  role_name: optional(Text),
});

/** PATCH /user: `userId: {value}` (js-api) or `id` (seed) names the user. */
export const EncedeusUserUpdate = z.extend(EncedeusUserCreate, { userId: optional(EncedeusId), id: optional(EncedeusId) });

export const EncedeusChangePassword = z.object({ userId: optional(EncedeusId), oldPassword: Text, newPassword: Text });
export const EncedeusChangeEmail = z.object({ userId: optional(EncedeusId), oldEmail: Text, newEmail: Text });
export const EncedeusChangeUsername = z.object({ userId: optional(EncedeusId), oldUsername: Text, newUsername: Text });

export const EncedeusRoleCreate = z.object({ name: optional(Text), permissions: optional(z.array(Text).check(z.maxLength(100))) });
export const EncedeusRoleUpdate = z.extend(EncedeusRoleCreate, { id: optional(EncedeusId) });
/** The seed's GET/DELETE /role carry `{id}` in the body. */
export const EncedeusRoleRef = z.object({ id: optional(EncedeusId) });

/** Responses, as Go's protojson renders Encedeus's messages (empty fields omitted). */
const Uuid = z.object({ value: z.string() });
export const EncedeusUser = z.object({
  id: Uuid,
  createdAt: z.optional(z.string()),
  updatedAt: z.optional(z.string()),
  email: z.optional(z.string()),
  name: z.string(),
  roleId: Uuid,
});
export type EncedeusUser = z.infer<typeof EncedeusUser>;
export const EncedeusRole = z.object({ id: Uuid, createdAt: z.optional(z.string()), name: z.string(), permissions: z.array(z.string()) });
export type EncedeusRole = z.infer<typeof EncedeusRole>;
export const EncedeusUserResponse = z.object({ user: EncedeusUser });
export const EncedeusUsersResponse = z.object({ users: z.array(EncedeusUser) });
export const EncedeusRoleResponse = z.object({ role: EncedeusRole });
export const EncedeusRolesResponse = z.object({ roles: z.array(EncedeusRole) });
export const EncedeusSignInResponse = z.object({ accessToken: z.string(), refreshToken: z.string() });
export const EncedeusRefreshResponse = z.object({ accessToken: z.string() });
/** Every Encedeus error body. */
export const EncedeusError = z.object({ message: z.string() });

/**
 * Encedeus permission names (the panel checks these six and grants `*` to its superuser) onto
 * Edgehook's. Edgehook's own grants are accepted as they are.
 */
export const EncedeusPermissionMap: Readonly<Record<string, string>> = {
  '*': '*',
  create_user: 'users.admin',
  update_user: 'users.admin',
  delete_user: 'users.admin',
  create_role: 'users.admin',
  update_role: 'users.admin',
  delete_role: 'users.admin',
};

export type GrantMapping = { ok: true; grants: string[] } | { ok: false; unknown: string[] };

/** Maps a role's permission list; any name neither Encedeus nor Edgehook knows is reported. */
export function mapEncedeusPermissions(names: readonly string[]): GrantMapping {
  const grants: string[] = [];
  const unknown: string[] = [];
  for (const name of names) {
    const mapped = Object.hasOwn(EncedeusPermissionMap, name) ? EncedeusPermissionMap[name] : isValidGrant(name) ? name : undefined;
    if (mapped === undefined) unknown.push(name);
    else if (!grants.includes(mapped)) grants.push(mapped);
  }
  return unknown.length > 0 ? { ok: false, unknown } : { ok: true, grants };
}
