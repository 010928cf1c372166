/**
 * Bulk provisioning for the replicas bench: Mosquitto 2.0's dynamic security plugin rewrites its
 * whole JSON file on every change, so enrolling a large fleet one device at a time through the API
 * takes hours (measured: ~3 enrollments/s at 1,000 devices on this machine). The bench writes the
 * same identities enrollment would create (client = device id, per-device role from device-acl.ts)
 * into the dynsec file before Mosquitto starts, and the device rows into the store.
 */
import { pbkdf2Sync, randomBytes } from 'node:crypto';
import { deviceAcls, deviceRole } from '../../control-plane/src/broker/device-acl.js';
import { hashSecret, newId, newSecret } from '../../control-plane/src/db/ids.js';
import { insertDevice } from '../../control-plane/src/devices/devices.repository.js';
import { migrateToLatest, openDatabase, type StoreLocation } from '../../control-plane/src/db/dialect.js';

export interface BulkDevice {
  deviceId: string;
  password: string;
}

export function bulkDevices(n: number): BulkDevice[] {
  return Array.from({ length: n }, () => ({ deviceId: newId(), password: newSecret('ehd') }));
}

/** Adds the devices' clients and roles to a dynsec config (as createClient/createRole would). */
export function addToDynsec(config: { clients: unknown[]; roles: unknown[] }, devices: BulkDevice[]): void {
  for (const d of devices) {
    const salt = randomBytes(12);
    const hash = pbkdf2Sync(d.password, salt, 101, 64, 'sha512');
    const rolename = deviceRole(d.deviceId);
    config.roles.push({ rolename, acls: deviceAcls(d.deviceId) });
    config.clients.push({ username: d.deviceId, clientid: d.deviceId, password: hash.toString('base64'), salt: salt.toString('base64'), iterations: 101, roles: [{ rolename }] });
  }
}

/** The device rows enrollment would make; `store` is a PostgreSQL URL or any store location (fleet-page: SQLite). */
export async function insertIntoStore(store: string | StoreLocation, devices: BulkDevice[]): Promise<void> {
  const db = await openDatabase(typeof store === 'string' ? { kind: 'postgres', url: store } : store);
  await migrateToLatest(db);
  const now = Date.now();
  for (let i = 0; i < devices.length; i += 500) {
    await db.transaction().execute(async (trx) => {
      for (const [k, d] of devices.slice(i, i + 500).entries()) {
        const name = `sim-${String(i + k).padStart(6, '0')}`;
        await insertDevice(trx, { id: d.deviceId, name, secretHash: hashSecret(d.password), description: { hostname: name, profile: 'simulated', agentVersion: '0.1.0-sim', hardware: { arch: 'x64', platform: 'linux', cpus: 1, memTotalBytes: 512 * 2 ** 20 } }, tags: [], enrollmentTokenId: 'bulk' }, now);
      }
    });
  }
  await db.destroy();
}
