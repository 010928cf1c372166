import type { Kysely } from 'kysely';

/**
 * Quix WSI backends (control-plane/src/wsi/): each device says how it is reached (`transport`:
 * 'mqtt' for our agent, 'wsi' for a backend on /wsi), and a backend's tokens are kept hashed.
 */
// Frozen in time: never edit a migration that has shipped; add a new one.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('devices').addColumn('transport', 'text', (c) => c.notNull().defaultTo('mqtt')).execute();
  await db.schema
    .createTable('wsi_tokens')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('token_hash', 'text', (c) => c.notNull().unique())
    .addColumn('device_id', 'text', (c) => c.notNull().references('devices.id').onDelete('cascade'))
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('wsi_tokens_device').on('wsi_tokens').column('device_id').execute();
  await db.schema.createIndex('wsi_tokens_user').on('wsi_tokens').column('user_id').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('wsi_tokens').ifExists().execute();
  await db.schema.alterTable('devices').dropColumn('transport').execute();
}
