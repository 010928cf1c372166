import type { Kysely } from 'kysely';

/**
 * Login throttling shared by every replica (one row per account or address key, epoch-ms times),
 * TOTP second factor per user (secret, pending enrollment, hashed recovery codes) and the
 * per-role requirement.
 */
// Frozen in time: never edit a migration that has shipped; add a new one.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('login_throttle')
    .addColumn('key', 'text', (c) => c.primaryKey())
    .addColumn('failures', 'integer', (c) => c.notNull())
    .addColumn('first_failure_at', 'bigint', (c) => c.notNull())
    .addColumn('locked_until', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.alterTable('users').addColumn('totp_secret', 'text').execute();
  await db.schema.alterTable('users').addColumn('totp_pending', 'text').execute();
  await db.schema.alterTable('users').addColumn('recovery_codes', 'text').execute();
  await db.schema.alterTable('users').addColumn('totp_last_step', 'bigint').execute();
  await db.schema.alterTable('roles').addColumn('require_totp', 'integer', (c) => c.notNull().defaultTo(0)).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('roles').dropColumn('require_totp').execute();
  for (const col of ['totp_last_step', 'recovery_codes', 'totp_pending', 'totp_secret']) await db.schema.alterTable('users').dropColumn(col).execute();
  await db.schema.dropTable('login_throttle').execute();
}
