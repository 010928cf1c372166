import type { Kysely } from 'kysely';

/**
 * Profile pictures, in the store rather than on a replica's disk so every replica serves them.
 * Base64 text keeps the column dialect-neutral (SQLite and PostgreSQL); at most 1 MB each.
 */
// Frozen in time: never edit a migration that has shipped; add a new one.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('user_avatars')
    .addColumn('user_id', 'text', (c) => c.primaryKey())
    .addColumn('mime', 'text', (c) => c.notNull())
    .addColumn('etag', 'text', (c) => c.notNull())
    .addColumn('data', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('user_avatars').ifExists().execute();
}
