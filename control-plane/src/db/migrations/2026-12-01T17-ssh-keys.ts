import type { Kysely } from 'kysely';

/** SSH public keys users register for SFTP logins (one row per key; the OpenSSH line as text). */
// Frozen in time: never edit a migration that has shipped; add a new one.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('user_ssh_keys')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('public_key', 'text', (c) => c.notNull())
    .addColumn('fingerprint', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('user_ssh_keys_user').on('user_ssh_keys').column('user_id').execute();
  await db.schema.createIndex('user_ssh_keys_fingerprint').on('user_ssh_keys').columns(['user_id', 'fingerprint']).unique().execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('user_ssh_keys').ifExists().execute();
}
