import type { Kysely } from 'kysely';
import type { Logger } from '@edgehook/shared';
import type { Database } from '../db/database.js';
import type { BrokerAdmin } from './broker-admin.js';

export interface ReconcileReport {
  removed: string[];
  missing: string[];
}

/**
 * Store and broker agree at start: identities of devices deleted from the store (while this
 * replica was down, or a half-done delete) are removed from the broker; devices in the store the
 * broker does not know are reported (their agents ask for the identity back with their own secret
 * when the broker refuses them: devices/reprovision.routes.ts).
 * An enrollment on another replica may sit between its broker step and its commit, so a broker-only
 * identity is removed only if the store still lacks it after `graceMs`.
 */
export async function reconcileBroker(deps: { db: Kysely<Database>; admin: BrokerAdmin; log: Logger; graceMs?: number }): Promise<ReconcileReport> {
  const { db, admin, log } = deps;
  const storeIds = async (): Promise<Set<string>> => new Set((await db.selectFrom('devices').select('id').execute()).map((r) => r.id));
  const inBroker = await admin.listDevices();
  const stored = await storeIds();
  const brokerSet = new Set(inBroker);
  // Quix WSI backends (transport 'wsi') have no broker identity by design.
  const wsi = new Set((await db.selectFrom('devices').select('id').where('transport', '!=', 'mqtt').execute()).map((r) => r.id));
  const missing = [...stored].filter((id) => !brokerSet.has(id) && !wsi.has(id));
  for (const id of missing) log.warn('device has no broker identity: its agent asks for it back (POST /api/enroll/reprovision) when refused, or enroll it again', { deviceId: id });
  const extra = inBroker.filter((id) => !stored.has(id));
  const removed: string[] = [];
  if (extra.length > 0) {
    await new Promise((r) => setTimeout(r, deps.graceMs ?? 2000));
    const again = await storeIds();
    for (const id of extra) {
      if (again.has(id)) continue;
      await admin.removeDevice(id);
      removed.push(id);
      log.info('removed the broker identity of a device deleted from the store', { deviceId: id });
    }
  }
  log.info('store and broker reconciled', { devices: stored.size, brokerIdentities: inBroker.length, removed: removed.length, missing: missing.length });
  return { removed, missing };
}
