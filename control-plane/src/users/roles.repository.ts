import type { Kysely } from 'kysely';
import type { RoleView } from '@edgehook/shared';
import type { Database, RoleRow } from '../db/database.js';
import { isoTime, isStringArray, newId, parseJsonColumn } from '../db/ids.js';

export const BUILTIN_ROLES: ReadonlyArray<{ name: string; permissions: string[] }> = [
  { name: 'admin', permissions: ['*'] },
  {
    name: 'operator',
    permissions: ['devices.*', 'telemetry.read', 'perfkit.*', 'containers.*', 'users.read'],
  },
  {
    name: 'viewer',
    permissions: ['devices.read', 'devices.hardware.read', 'telemetry.read', 'perfkit.read', 'containers.read'],
  },
];

export function toRoleView(row: Omit<RoleRow, 'require_totp'> & { require_totp?: number | undefined }): RoleView {
  return { id: row.id, name: row.name, permissions: parseJsonColumn(row.permissions, [], isStringArray), builtin: row.builtin === 1, requireTotp: Number(row.require_totp ?? 0) === 1 };
}

export async function ensureBuiltinRoles(db: Kysely<Database>, now: number): Promise<void> {
  for (const role of BUILTIN_ROLES) {
    const existing = await db.selectFrom('roles').select('id').where('name', '=', role.name).executeTakeFirst();
    if (existing) continue;
    await db
      .insertInto('roles')
      .values({ id: newId(), name: role.name, permissions: JSON.stringify(role.permissions), builtin: 1, created_at: isoTime(now) })
      .onConflict((oc) => oc.column('name').doNothing())
      .execute();
  }
}

export async function listRoles(db: Kysely<Database>): Promise<RoleView[]> {
  const rows = await db.selectFrom('roles').selectAll().orderBy('name').execute();
  return rows.map(toRoleView);
}

export async function findRole(db: Kysely<Database>, ref: { id?: string | undefined; name?: string | undefined }): Promise<RoleView | undefined> {
  let q = db.selectFrom('roles').selectAll();
  if (ref.id !== undefined) q = q.where('id', '=', ref.id);
  else if (ref.name !== undefined) q = q.where('name', '=', ref.name);
  else return undefined;
  const row = await q.executeTakeFirst();
  return row ? toRoleView(row) : undefined;
}

export async function insertRole(db: Kysely<Database>, input: { name: string; permissions: string[]; requireTotp?: boolean | undefined }, now: number): Promise<RoleView> {
  const row = { id: newId(), name: input.name, permissions: JSON.stringify(input.permissions), builtin: 0, created_at: isoTime(now), require_totp: input.requireTotp ? 1 : 0 };
  await db.insertInto('roles').values(row).execute();
  return toRoleView(row);
}

export async function updateRole(db: Kysely<Database>, id: string, patch: { name?: string | undefined; permissions?: string[] | undefined; requireTotp?: boolean | undefined }): Promise<void> {
  const values: { name?: string; permissions?: string; require_totp?: number } = {};
  if (patch.name !== undefined) values.name = patch.name;
  if (patch.requireTotp !== undefined) values.require_totp = patch.requireTotp ? 1 : 0;
  if (patch.permissions !== undefined) values.permissions = JSON.stringify(patch.permissions);
  if (Object.keys(values).length === 0) return;
  await db.updateTable('roles').set(values).where('id', '=', id).execute();
}

export async function deleteRole(db: Kysely<Database>, id: string): Promise<void> {
  await db.deleteFrom('roles').where('id', '=', id).execute();
}

export async function countUsersWithRole(db: Kysely<Database>, roleId: string): Promise<number> {
  const row = await db.selectFrom('users').select((eb) => eb.fn.countAll<number | string>().as('n')).where('role_id', '=', roleId).executeTakeFirst();
  return Number(row?.n ?? 0);
}
