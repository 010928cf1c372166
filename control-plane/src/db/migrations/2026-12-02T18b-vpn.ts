import type { Kysely } from 'kysely';

/**
 * WireGuard peers (issue 18): one row per device with a VPN address. The address index is unique,
 * so two replicas allocating at once cannot hand out the same address; the row goes with its device.
 * Only public keys are stored: agents keep their private key, WSI backends get theirs once.
 */
// Frozen in time: never edit a migration that has shipped; add a new one.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('vpn_peers')
    .addColumn('device_id', 'text', (c) => c.primaryKey().references('devices.id').onDelete('cascade'))
    .addColumn('subnet', 'text', (c) => c.notNull())
    .addColumn('address_index', 'integer', (c) => c.notNull())
    .addColumn('address', 'text', (c) => c.notNull())
    .addColumn('public_key', 'text')
    .addColumn('key_source', 'text')
    .addColumn('issued_at', 'text')
    .addColumn('status', 'text')
    .addColumn('status_at', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('vpn_peers_address').on('vpn_peers').columns(['subnet', 'address_index']).unique().execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('vpn_peers').ifExists().execute();
}
