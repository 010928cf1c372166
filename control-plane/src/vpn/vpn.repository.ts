import type { Kysely, Selectable } from 'kysely';
import { EdgehookError, VpnAgentStatus, decodeJson } from '@edgehook/shared';
import type { Database, VpnPeersTable } from '../db/database.js';
import type { AddressPool } from './address-pool.js';

export type VpnPeerRow = Selectable<VpnPeersTable>;

const iso = (ms: number): string => new Date(ms).toISOString();
const isUniqueViolation = (err: unknown): boolean => /UNIQUE|duplicate key/i.test(err instanceof Error ? err.message : String(err));

export async function findVpnPeer(db: Kysely<Database>, deviceId: string): Promise<VpnPeerRow | undefined> {
  return db.selectFrom('vpn_peers').selectAll().where('device_id', '=', deviceId).executeTakeFirst();
}

/** Every peer with its device's name, in address order. */
export async function listVpnPeers(db: Kysely<Database>): Promise<Array<VpnPeerRow & { name: string }>> {
  return db.selectFrom('vpn_peers').innerJoin('devices', 'devices.id', 'vpn_peers.device_id').selectAll('vpn_peers').select('devices.name').orderBy('vpn_peers.address_index').execute();
}

export async function countVpnPeers(db: Kysely<Database>, subnet: string): Promise<number> {
  const r = await db.selectFrom('vpn_peers').select((eb) => eb.fn.countAll<number | string | bigint>().as('n')).where('subnet', '=', subnet).executeTakeFirst();
  return Number(r?.n ?? 0);
}

/** The lowest index no peer of this pool holds. */
async function lowestFree(db: Kysely<Database>, pool: AddressPool): Promise<number | undefined> {
  const taken = await db.selectFrom('vpn_peers').select('address_index').where('subnet', '=', pool.cidr).orderBy('address_index').execute();
  let next = 0;
  for (const { address_index } of taken) {
    if (address_index !== next) break;
    next++;
  }
  return next < pool.capacity ? next : undefined;
}

/**
 * The device's address in the pool: the one it has (stable), else the lowest free one. The unique
 * (subnet, index) makes concurrent allocations safe: the loser of a race takes the next address.
 * A device addressed in another pool (the subnet was changed) is moved into this one.
 */
export async function allocateVpnAddress(db: Kysely<Database>, deviceId: string, pool: AddressPool, now: number): Promise<VpnPeerRow> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const existing = await findVpnPeer(db, deviceId);
    if (existing && existing.subnet === pool.cidr) return existing;
    const index = await lowestFree(db, pool);
    if (index === undefined) throw new EdgehookError('CONFLICT', `the VPN address pool ${pool.cidr} is full (${pool.capacity} device addresses): delete devices you no longer need or start the control plane with a larger --vpn-subnet`);
    const address = pool.addressAt(index);
    try {
      if (existing) {
        // The old key was for the old address: the device is issued anew.
        await db.updateTable('vpn_peers').set({ subnet: pool.cidr, address_index: index, address, public_key: null, key_source: null, issued_at: null }).where('device_id', '=', deviceId).execute();
      } else {
        await db.insertInto('vpn_peers').values({ device_id: deviceId, subnet: pool.cidr, address_index: index, address, public_key: null, key_source: null, issued_at: null, status: null, status_at: null, created_at: iso(now) }).execute();
      }
    } catch (err) {
      if (isUniqueViolation(err)) continue;
      throw err;
    }
  }
  throw new EdgehookError('CONFLICT', 'could not allocate a VPN address (too many concurrent allocations); try again');
}

/** Records the device's public key (the only key the store ever holds for a device). */
export async function setVpnPeerKey(db: Kysely<Database>, deviceId: string, publicKey: string, keySource: 'device' | 'server', now: number): Promise<void> {
  await db.updateTable('vpn_peers').set({ public_key: publicKey, key_source: keySource, issued_at: iso(now) }).where('device_id', '=', deviceId).execute();
}

export async function recordVpnStatus(db: Kysely<Database>, deviceId: string, status: VpnAgentStatus, now: number): Promise<void> {
  await db.updateTable('vpn_peers').set({ status: JSON.stringify(status), status_at: iso(now) }).where('device_id', '=', deviceId).execute();
}

/** The stored status, parsed (a row written by an older version that no longer parses is "none"). */
export function storedVpnStatus(row: VpnPeerRow): (VpnAgentStatus & { reportedAt: string }) | null {
  if (row.status === null || row.status_at === null) return null;
  const parsed = decodeJson(VpnAgentStatus, row.status);
  return parsed.ok ? { ...parsed.value, reportedAt: row.status_at } : null;
}

export async function deleteVpnPeer(db: Kysely<Database>, deviceId: string): Promise<boolean> {
  const r = await db.deleteFrom('vpn_peers').where('device_id', '=', deviceId).executeTakeFirst();
  return Number(r.numDeletedRows) > 0;
}
