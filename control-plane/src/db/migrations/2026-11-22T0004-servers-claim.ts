import type { Kysely } from 'kysely';

/**
 * When a device comes online every control-plane replica hears it; the one that claims the
 * device's declared set first for that connection (a conditional UPDATE on the presence session)
 * applies it, the others leave it.
 */
// Frozen in time: never edit a migration that has shipped; add a new one.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('declared_servers').addColumn('reconciled_session', 'text').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('declared_servers').dropColumn('reconciled_session').execute();
}
