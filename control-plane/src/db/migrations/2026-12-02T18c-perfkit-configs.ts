import type { Kysely } from 'kysely';

/**
 * Perfkit configs (issue 18): the desired value per (device, scope, key) with its version, the
 * ordered patch log per device ("fetch patches since seq"), and the last declaration seen per
 * scope, so configs of an offline device can be browsed and edited. Values are JSON text.
 */
// Frozen in time: never edit a migration that has shipped; add a new one.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('perfkit_desired')
    .addColumn('device_id', 'text', (c) => c.notNull())
    .addColumn('scope', 'text', (c) => c.notNull())
    .addColumn('key', 'text', (c) => c.notNull())
    .addColumn('value', 'text', (c) => c.notNull())
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('seq', 'integer', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addColumn('updated_by', 'text')
    .addPrimaryKeyConstraint('perfkit_desired_pk', ['device_id', 'scope', 'key'])
    .execute();
  await db.schema
    .createTable('perfkit_patches')
    .addColumn('device_id', 'text', (c) => c.notNull())
    .addColumn('seq', 'integer', (c) => c.notNull())
    .addColumn('scope', 'text', (c) => c.notNull())
    .addColumn('key', 'text', (c) => c.notNull())
    .addColumn('value', 'text', (c) => c.notNull())
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('at', 'text', (c) => c.notNull())
    .addColumn('by', 'text')
    // The primary key makes two concurrent edits of one device unable to take the same seq.
    .addPrimaryKeyConstraint('perfkit_patches_pk', ['device_id', 'seq'])
    .execute();
  await db.schema
    .createTable('perfkit_schemas')
    .addColumn('device_id', 'text', (c) => c.notNull())
    .addColumn('scope', 'text', (c) => c.notNull())
    .addColumn('classes', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('perfkit_schemas_pk', ['device_id', 'scope'])
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const t of ['perfkit_schemas', 'perfkit_patches', 'perfkit_desired']) await db.schema.dropTable(t).ifExists().execute();
}
