import type { Kysely } from 'kysely';

/**
 * The declared set of servers (containers) per device: the control plane's desired state, applied
 * by the agent's planner. One row per device holding the whole set as JSON, with a revision so a
 * stale apply result is never recorded over a newer set.
 */
// Frozen in time: never edit a migration that has shipped; add a new one.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('declared_servers')
    .addColumn('device_id', 'text', (c) => c.primaryKey().references('devices.id').onDelete('cascade'))
    .addColumn('servers', 'text', (c) => c.notNull())
    .addColumn('revision', 'integer', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addColumn('updated_by', 'text')
    .addColumn('last_apply', 'text')
    .addColumn('last_apply_revision', 'integer')
    .addColumn('last_apply_at', 'text')
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('declared_servers').ifExists().execute();
}
