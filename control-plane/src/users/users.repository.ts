import type { Kysely } from 'kysely';
import type { UserView } from '@edgehook/shared';
import type { Database } from '../db/database.js';
import { hashSecret, isoTime, isStringArray, newId, parseJsonColumn } from '../db/ids.js';

export interface UserWithRole {
  id: string;
  username: string;
  email: string | null;
  passwordHash: string;
  roleId: string;
  roleName: string;
  permissions: string[];
  createdAt: string;
}

function baseQuery(db: Kysely<Database>) {
  return db
    .selectFrom('users')
    .innerJoin('roles', 'roles.id', 'users.role_id')
    .select([
      'users.id as id',
      'users.username as username',
      'users.email as email',
      'users.password_hash as password_hash',
      'users.created_at as created_at',
      'roles.id as role_id',
      'roles.name as role_name',
      'roles.permissions as permissions',
    ]);
}

type JoinedRow = {
  id: string;
  username: string;
  email: string | null;
  password_hash: string;
  created_at: string;
  role_id: string;
  role_name: string;
  permissions: string;
};

function toUser(row: JoinedRow): UserWithRole {
  return {
    id: row.id,
    username: row.username,
    email: row.email,
    passwordHash: row.password_hash,
    roleId: row.role_id,
    roleName: row.role_name,
    permissions: parseJsonColumn(row.permissions, [], isStringArray),
    createdAt: row.created_at,
  };
}

export function toUserView(user: UserWithRole): UserView {
  return {
    id: user.id,
    username: user.username,
    email: user.email,
    role: { id: user.roleId, name: user.roleName },
    permissions: user.permissions,
    createdAt: user.createdAt,
  };
}

export async function findUserById(db: Kysely<Database>, id: string): Promise<UserWithRole | undefined> {
  const row = await baseQuery(db).where('users.id', '=', id).executeTakeFirst();
  return row ? toUser(row) : undefined;
}

/** The user behind a live access token (not expired, session not revoked). */
export async function findUserByAccessToken(db: Kysely<Database>, token: string, now: number): Promise<{ user: UserWithRole; sessionId: string } | undefined> {
  return findUserByToken(db, token, 'access', now);
}

/** The user behind a live token of one kind (access, or a scoped console token). */
export async function findUserByToken(db: Kysely<Database>, token: string, kind: string, now: number): Promise<{ user: UserWithRole; sessionId: string; expiresAt: string } | undefined> {
  const row = await baseQuery(db)
    .innerJoin('sessions', 'sessions.user_id', 'users.id')
    .innerJoin('auth_tokens', 'auth_tokens.session_id', 'sessions.id')
    .select(['sessions.id as session_id', 'auth_tokens.expires_at as token_expires_at'])
    .where('auth_tokens.hash', '=', hashSecret(token))
    .where('auth_tokens.kind', '=', kind)
    .where('auth_tokens.expires_at', '>', isoTime(now))
    .where('sessions.revoked_at', 'is', null)
    .executeTakeFirst();
  return row ? { user: toUser(row), sessionId: row.session_id, expiresAt: row.token_expires_at } : undefined;
}

/** Login accepts a username or an email address. */
export async function findUserByLogin(db: Kysely<Database>, login: string): Promise<UserWithRole | undefined> {
  const row = await baseQuery(db)
    .where((eb) => eb.or([eb('users.username', '=', login), eb('users.email', '=', login.toLowerCase())]))
    .executeTakeFirst();
  return row ? toUser(row) : undefined;
}

export async function listUsers(db: Kysely<Database>): Promise<UserWithRole[]> {
  const rows = await baseQuery(db).orderBy('users.username').execute();
  return rows.map(toUser);
}

export async function countUsers(db: Kysely<Database>): Promise<number> {
  const row = await db.selectFrom('users').select((eb) => eb.fn.countAll<number | string>().as('n')).executeTakeFirst();
  return Number(row?.n ?? 0);
}

export async function insertUser(
  db: Kysely<Database>,
  input: { username: string; email: string | null; passwordHash: string; roleId: string },
  now: number,
): Promise<string> {
  const id = newId();
  await db
    .insertInto('users')
    .values({
      id,
      username: input.username,
      email: input.email?.toLowerCase() ?? null,
      password_hash: input.passwordHash,
      role_id: input.roleId,
      created_at: isoTime(now),
      updated_at: isoTime(now),
    })
    .execute();
  return id;
}

export async function updateUser(
  db: Kysely<Database>,
  id: string,
  patch: { username?: string; email?: string | null; passwordHash?: string; roleId?: string },
  now: number,
): Promise<void> {
  const values: { username?: string; email?: string | null; password_hash?: string; role_id?: string; updated_at: string } = {
    updated_at: isoTime(now),
  };
  if (patch.username !== undefined) values.username = patch.username;
  if (patch.email !== undefined) values.email = patch.email?.toLowerCase() ?? null;
  if (patch.passwordHash !== undefined) values.password_hash = patch.passwordHash;
  if (patch.roleId !== undefined) values.role_id = patch.roleId;
  await db.updateTable('users').set(values).where('id', '=', id).execute();
}

export async function deleteUser(db: Kysely<Database>, id: string): Promise<void> {
  // The profile picture goes with its user.
  await db.deleteFrom('user_avatars').where('user_id', '=', id).execute();
  await db.deleteFrom('user_ssh_keys').where('user_id', '=', id).execute();
  await db.deleteFrom('users').where('id', '=', id).execute();
}
