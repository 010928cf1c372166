import type { Kysely } from 'kysely';
import type { Logger } from '@edgehook/shared';
import type { Database } from '../db/database.js';
import { generatePassword, hashPassword } from '../auth/passwords.js';
import { ensureBuiltinRoles, findRole } from './roles.repository.js';
import { countUsers, insertUser } from '../auth/users.repository.js';

/**
 * First start: built-in roles, and an `admin` user when there are no users at all.
 * Returns the generated password (to be printed once) when none was configured.
 */
export async function bootstrapUsers(deps: { db: Kysely<Database>; log: Logger; now: number }, adminPassword: string | undefined): Promise<{ createdAdmin: boolean; generatedPassword?: string }> {
  await ensureBuiltinRoles(deps.db, deps.now);
  if ((await countUsers(deps.db)) > 0) return { createdAdmin: false };
  const role = await findRole(deps.db, { name: 'admin' });
  if (!role) throw new Error('the built-in admin role is missing');
  if (adminPassword !== undefined && adminPassword.length < 8) throw new Error('EDGEHOOK_ADMIN_PASSWORD must have at least 8 characters');
  const password = adminPassword ?? generatePassword();
  await insertUser(deps.db, { username: 'admin', email: null, passwordHash: await hashPassword(password), roleId: role.id }, deps.now);
  deps.log.info('created the first user: admin');
  return adminPassword === undefined ? { createdAdmin: true, generatedPassword: password } : { createdAdmin: true };
}
