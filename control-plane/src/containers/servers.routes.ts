import { Hono } from 'hono';
import type { Kysely } from 'kysely';
import { type ApplyResult, type Clock, type DeclaredServer, type Logger } from '@edgehook/shared';
import { ContainerRoutes as R } from '@edgehook/shared/rest';
import type { Database } from '../db/database.js';
import type { AppEnv } from '../http/context.js';
import { routeMounter } from '../http/rest-route.js';
import type { RpcClient } from '../devices/rpc.client.js';
import { findDeviceByRef } from '../devices/devices.repository.js';
import type { FleetEvents } from '../events/fleet-events.js';
import { serverCrudRoutes } from './server-crud.routes.js';
import { claimReconcile, getDeclaredSet, putDeclaredSet, recordApply } from './servers.repository.js';

export interface ServersDeps {
  db: Kysely<Database>;
  rpc: RpcClient;
  clock: Clock;
  log: Logger;
}

/** Creating containers may pull images: allow minutes, not seconds. */
const APPLY_TIMEOUT = { timeoutMs: 300_000 };

/** Sends the set to the device and records the outcome against its revision. */
export async function applyDeclaredSet(deps: ServersDeps, deviceId: string, servers: DeclaredServer[], revision: number): Promise<ApplyResult> {
  const result = await deps.rpc.call(deviceId, 'servers.apply', { servers }, APPLY_TIMEOUT);
  await recordApply(deps.db, deviceId, revision, result, deps.clock.now());
  return result;
}

/**
 * A device that comes online converges to its declared set (it may have missed changes while
 * offline, or lost containers). Every replica hears the event; the one that claims this connection
 * in the store applies it. (Applying is idempotent on the agent anyway: a second apply plans nothing.)
 */
export function reconcileOnConnect(deps: ServersDeps & { events: FleetEvents }): () => void {
  return deps.events.subscribe((event) => {
    if (event.type !== 'device.online') return;
    void (async () => {
      const set = await getDeclaredSet(deps.db, event.deviceId);
      if (set.revision === 0) return;
      const device = await findDeviceByRef(deps.db, event.deviceId);
      if (!device || !(await claimReconcile(deps.db, event.deviceId, device.presence_session))) return;
      const result = await applyDeclaredSet(deps, event.deviceId, set.servers, set.revision);
      deps.log.info('declared servers applied on connect', { deviceId: event.deviceId, revision: set.revision, steps: result.steps.length, ok: result.ok });
    })().catch((err: unknown) => deps.log.warn('declared servers not applied on connect', { deviceId: event.deviceId, err }));
  });
}

/** `/api/devices/:id/servers`: the declared set (desired state) of a device's servers. */
export function serversRoutes(deps: ServersDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const { db, rpc } = deps;
  const mount = routeMounter(app, '/api/devices', db);

  mount(R.serversGet, ({ device }) => getDeclaredSet(db, device.id));
  // Replaces the whole set. Stored first (the source of truth), then applied if the device is
  // online; an offline device converges when it reconnects.
  mount(R.serversPut, async ({ c, device, body }) => {
    const revision = await putDeclaredSet(db, device.id, body.servers, c.get('principal').username, deps.clock.now());
    if (!device.online) return c.json({ revision, servers: body.servers, apply: null, pending: `device ${device.name} is offline; the set is applied when it reconnects` }, 202);
    const apply = await applyDeclaredSet(deps, device.id, body.servers, revision);
    return { revision, servers: body.servers, apply };
  });
  // Dry run: the steps the device would take for this set, without taking them.
  mount(R.serversPlan, ({ device, body }) => rpc.call(device.id, 'servers.plan', body, { timeoutMs: 30_000 }));
  app.route('/', serverCrudRoutes(deps));
  return app;
}
