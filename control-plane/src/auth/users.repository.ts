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
  /** Enrolled TOTP secret (base32), or null. */
  totpSecret: string | null;
  totpLastStep: number | undefined;
  /** sha256 hashes of unused recovery codes. */
  recoveryCodes: string[];
  /** The role requires a second factor. */
  requireTotp: boolean;
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
      'roles.require_totp as require_totp',
      'users.totp_secret as totp_secret',
      'users.totp_last_step as totp_last_step',
      'users.recovery_codes as recovery_codes',
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
  require_totp: number;
  totp_secret: string | null;
  totp_last_step: number | string | null;
  recovery_codes: string | null;
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
    totpSecret: row.totp_secret,
    totpLastStep: row.totp_last_step === null ? undefined : Number(row.totp_last_step),
    recoveryCodes: row.recovery_codes === null ? [] : parseJsonColumn(row.recovery_codes, [], isStringArray),
    requireTotp: Number(row.require_totp) === 1,
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
    totp: { enabled: user.totpSecret !== null, requiredByRole: user.requireTotp, recoveryCodesLeft: user.recoveryCodes.length },
  };
}

export async function findUserById(db: Kysely<Database>, id: string): Promise<UserWithRole | undefined> {
  const row = await baseQuery(db).where('users.id', '=', id).executeTakeFirst();
  return row ? toUser(row) : undefined;
}

/** The user behind a live access token (not expired, session not revoked). */
export async function findUserByAccessToken(db: Kysely<Database>, token: string, now: number): Promise<{ user: UserWithRole; sessionId: string; expiresAt: string } | undefined> {
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
  // Its Quix WSI backends' tokens die with the account that signed them in.
  await db.deleteFrom('wsi_tokens').where('user_id', '=', id).execute();
  await db.deleteFrom('users').where('id', '=', id).execute();
}

/** Second-factor state: a pending secret during enrollment, the live secret, recovery code hashes, last step used. */
export async function updateTotp(
  db: Kysely<Database>,
  id: string,
  patch: { pending?: string | null; secret?: string | null; recoveryCodes?: string[] | null; lastStep?: number | null },
): Promise<void> {
  const values: { totp_pending?: string | null; totp_secret?: string | null; recovery_codes?: string | null; totp_last_step?: number | null } = {};
  if (patch.pending !== undefined) values.totp_pending = patch.pending;
  if (patch.secret !== undefined) values.totp_secret = patch.secret;
  if (patch.recoveryCodes !== undefined) values.recovery_codes = patch.recoveryCodes === null ? null : JSON.stringify(patch.recoveryCodes);
  if (patch.lastStep !== undefined) values.totp_last_step = patch.lastStep;
  await db.updateTable('users').set(values).where('id', '=', id).execute();
}

export async function findPendingTotp(db: Kysely<Database>, id: string): Promise<string | null> {
  const row = await db.selectFrom('users').select('totp_pending').where('id', '=', id).executeTakeFirst();
  return row?.totp_pending ?? null;
}

/** Uses a recovery code once: the conditional update makes it single-use across replicas. */
export async function consumeRecoveryCode(db: Kysely<Database>, user: UserWithRole, codeHash: string): Promise<boolean> {
  if (!user.recoveryCodes.includes(codeHash)) return false;
  const left = user.recoveryCodes.filter((h) => h !== codeHash);
  const res = await db
    .updateTable('users')
    .set({ recovery_codes: JSON.stringify(left) })
    .where('id', '=', user.id)
    .where('recovery_codes', '=', JSON.stringify(user.recoveryCodes))
    .executeTakeFirst();
  return Number(res.numUpdatedRows) === 1;
}

/** Accepts a TOTP step only if it is newer than the last one used (single use across replicas). */
export async function claimTotpStep(db: Kysely<Database>, id: string, step: number): Promise<boolean> {
  const res = await db
    .updateTable('users')
    .set({ totp_last_step: step })
    .where('id', '=', id)
    .where((eb) => eb.or([eb('totp_last_step', 'is', null), eb('totp_last_step', '<', step)]))
    .executeTakeFirst();
  return Number(res.numUpdatedRows) === 1;
}
