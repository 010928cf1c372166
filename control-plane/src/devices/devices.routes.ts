import { Hono } from 'hono';
import type { Kysely } from 'kysely';
import type { RevocationSink } from '../auth/revocations.js';
import { compareAgentVersions, EdgehookError, topicFor, type Clock, type Logger } from '@edgehook/shared';
import { DeviceRoutes as R } from '@edgehook/shared/rest';
import type { Transport } from '@edgehook/shared/transport';
import type { Database } from '../db/database.js';
import type { AppEnv } from '../http/context.js';
import { routeMounter } from '../http/rest-route.js';
import { lookupDevice } from './device.middleware.js';
import { transportKind } from './device-transport.js';
import type { BrokerAdmin } from '../broker/broker-admin.js';
import type { FleetEvents } from '../events/fleet-events.js';
import type { RpcClient } from './rpc.client.js';
import { deleteDevice, listDevices, nameTaken, toDeviceView, updateDevice } from './devices.repository.js';

export interface DevicesRoutesDeps {
  db: Kysely<Database>;
  clock: Clock;
  log: Logger;
  rpc: RpcClient;
  broker: BrokerAdmin;
  transport: Transport;
  events: FleetEvents;
  revocations: RevocationSink;
  /** The newest published agent version, so lists mark the devices that lag behind it. */
  latestAgentVersion?: () => Promise<string | undefined>;
}

/** A refused or unanswered broker command becomes a clear 503 for the API caller. */
export async function brokerChange(work: () => Promise<void>): Promise<void> {
  try {
    await work();
  } catch (err) {
    throw new EdgehookError('BROKER_UNAVAILABLE', `the broker did not apply the change, nothing was changed: ${err instanceof Error ? err.message : String(err)}`);
  }
}

export function devicesRoutes(deps: DevicesRoutesDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const { db, clock } = deps;

  const mount = routeMounter(app, '/api/devices', db);

  mount(R.deviceList, async ({ query }) => {
    const rows = await listDevices(db, { tag: query.tag, online: query.online === undefined ? undefined : query.online === 'true', after: query.after, limit: query.limit });
    const latest = await deps.latestAgentVersion?.();
    return rows.map((row) => {
      const view = toDeviceView(row);
      return latest !== undefined && compareAgentVersions(view.agentVersion, latest) < 0 ? { ...view, agentLatest: latest } : view;
    });
  });

  mount(R.deviceGet, ({ device }) => toDeviceView(device.row));

  mount(R.deviceUpdate, async ({ device: { row }, body: patch }) => {
    if (patch.name !== undefined && patch.name !== row.name && (await nameTaken(db, patch.name, row.id))) {
      throw new EdgehookError('CONFLICT', `another device is named ${patch.name}, or has it as its id`);
    }
    await updateDevice(db, row.id, patch);
    const device = toDeviceView((await lookupDevice(db, row.id)).row);
    await deps.events.announce({ type: 'device.updated', deviceId: row.id, ts: clock.now(), device });
    return device;
  });

  // Deleting revokes the credentials and drops the live link. The broker goes first: if it refuses,
  // the call fails and the device stays whole in both; the embedded broker refuses the device from
  // then on and reads the store, so its row holds the only secret hash.
  mount(R.deviceDelete, async ({ c, device: { row } }) => {
    // Operator sockets on the device close first (their shells are cancelled while the link is up).
    await deps.revocations.announce({ type: 'device', deviceId: row.id, reason: 'device deleted' });
    await brokerChange(() => deps.broker.removeDevice(row.id));
    await deleteDevice(db, row.id);
    for (const name of ['status', 'hello'] as const) {
      await deps.transport.publish(topicFor(name, { deviceId: row.id }), '', { qos: 1, retain: true }).catch(() => undefined);
    }
    await deps.events.announce({ type: 'device.deleted', deviceId: row.id, ts: clock.now() });
    deps.log.info('device deleted', { deviceId: row.id, name: row.name, by: c.get('principal').username });
    return null;
  });

  mount(R.devicePing, async ({ device }) => {
    const started = clock.monotonic();
    await deps.rpc.call(device.id, 'ping', { sentAt: clock.now() }, { timeoutMs: 5000, kind: transportKind(device.row.transport) });
    const rttMs = Math.round((clock.monotonic() - started) * 1000) / 1000;
    return { rttMs };
  });

  return app;
}
