import type { Kysely } from 'kysely';
import type { Logger } from '@edgehook/shared';
import { connectMqtt, type MqttTransport, type Transport } from '@edgehook/shared/transport';
import type { Database } from '../db/database.js';
import { DynsecAdmin } from './dynsec-admin.js';
import { guardDevicePayloads } from './payload-guard.js';
import type { ValidatedPayloads } from './validated-payloads.js';
import { reconcileBroker } from './reconcile.js';

export interface ExternalBus {
  /** The bus as every consumer sees it: device payloads checked on arrival. */
  transport: Transport;
  link: MqttTransport;
  admin: DynsecAdmin;
}

function waitConnected(transport: MqttTransport, timeoutMs: number, url: string): Promise<void> {
  if (transport.connected) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`could not connect to the broker at ${url} within ${timeoutMs / 1000} s`));
    }, timeoutMs);
    const off = transport.onState((s) => {
      if (s.state === 'connected') {
        clearTimeout(timer);
        off();
        resolve();
      } else if (s.reason === 'not-authorized') {
        clearTimeout(timer);
        off();
        reject(new Error(`the broker at ${url} refused the account (check --broker-username and its password)`));
      }
    });
  });
}

/**
 * Joins an external Mosquitto as one replica among several: its own account and client id, the
 * dynamic security plugin as the device registry, and store/broker reconciliation at start.
 */
export async function connectExternalBroker(opts: { url: string; username: string; password: string; instanceId: string; db: Kysely<Database>; log: Logger; validated?: ValidatedPayloads }): Promise<ExternalBus> {
  const { log } = opts;
  const link = await connectMqtt({
    url: opts.url,
    clientId: `edgehook-${opts.instanceId}`,
    username: opts.username,
    password: opts.password,
    keepalive: 30,
    backoff: { baseMs: 200, maxMs: 5000 },
    log: log.child({ part: 'bus' }),
  });
  await waitConnected(link, 15_000, opts.url);
  const admin = new DynsecAdmin({ transport: link, instanceId: opts.instanceId, log: log.child({ part: 'dynsec' }) });
  await admin.start();
  await admin.ensureControlPlaneRole(opts.username);
  const transport = guardDevicePayloads(link, { log: log.child({ part: 'payload-guard' }), disable: (id, reason) => admin.disableDevice(id, reason), ...(opts.validated ? { validated: opts.validated } : {}) });
  await reconcileBroker({ db: opts.db, admin, log: log.child({ part: 'reconcile' }) });
  return { transport, link, admin };
}
