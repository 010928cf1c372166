import type { Kysely } from 'kysely';
import { decodeJson, DeviceDescription, filterFor, matchTopic, PresenceMessage, type Clock, type FleetEvent, type Logger } from '@edgehook/shared';
import { syncPresenceFromRetained } from './presence.sync.js';
import type { Transport } from '@edgehook/shared/transport';
import type { Database } from '../db/database.js';
import type { FleetEvents } from '../events/fleet-events.js';
import { applyDescription, markOffline, markOnline } from './devices.repository.js';

/** The shared group of the presence subscriptions (status, hello); others reacting to `hello` join it. */
export const PRESENCE_SHARE = 'edgehook-presence';

/**
 * Keeps the store's view of presence in step with the retained status topics. Runs on every
 * replica: the updates are idempotent, and each replica tells its own websocket clients.
 */
export async function startPresence(deps: { db: Kysely<Database>; transport: Transport; events: FleetEvents; clock: Clock; log: Logger }, shared?: { instanceId: string }): Promise<void> {
  const { db, clock, log, events } = deps;
  // Shared (several replicas on one broker): one replica applies each change and tells the others.
  const share = shared ? PRESENCE_SHARE : undefined;
  // A shared subscription never gets retained messages: a retained copy here is the one sent to the
  // plain status subscription of the start-up sync (same filter, same link), which applies it itself.
  // Applying it here too was one UPDATE and one fleet event per device at every replica start.
  const notForUs = (meta: { retained: boolean } | undefined): boolean => share !== undefined && meta?.retained === true;
  const tell = (event: FleetEvent): void => {
    if (shared) void events.announce(event);
    else events.emitLocal(event);
  };

  // Messages of one device are applied in arrival order, without blocking other devices.
  const chains = new Map<string, Promise<void>>();
  const enqueue = (deviceId: string, work: () => Promise<void>): void => {
    const next = (chains.get(deviceId) ?? Promise.resolve())
      .then(work)
      .catch((err: unknown) => log.error('presence update failed', { deviceId, err }))
      .finally(() => {
        if (chains.get(deviceId) === next) chains.delete(deviceId);
      });
    chains.set(deviceId, next);
  };

  await deps.transport.subscribe(filterFor('status'), (topic, payload, meta) => {
    const deviceId = matchTopic(topic)?.params['deviceId'];
    if (!deviceId || notForUs(meta)) return;
    // An empty retained payload clears the topic (device deleted): nothing to apply.
    if (payload.length === 0) return;
    const msg = decodeJson(PresenceMessage, payload);
    if (!msg.ok) {
      log.warn('malformed status message', { deviceId, error: msg.error });
      return;
    }
    enqueue(deviceId, async () => {
      const now = clock.now();
      const session = msg.value.session ?? null;
      if (msg.value.state === 'online') {
        if (await markOnline(db, deviceId, session, now)) tell({ type: 'device.online', deviceId, ts: now });
      } else if (await markOffline(db, deviceId, session, now)) {
        tell({ type: 'device.offline', deviceId, ts: now });
      }
    });
  }, share ? { share } : {});

  await deps.transport.subscribe(filterFor('hello'), (topic, payload, meta) => {
    const deviceId = matchTopic(topic)?.params['deviceId'];
    if (!deviceId || payload.length === 0 || notForUs(meta)) return;
    const msg = decodeJson(DeviceDescription, payload);
    if (!msg.ok) {
      log.warn('malformed hello message', { deviceId, error: msg.error });
      return;
    }
    enqueue(deviceId, async () => {
      await applyDescription(db, deviceId, msg.value, clock.now());
    });
  }, share ? { share } : {});

  if (!shared) return;
  // Shared subscriptions get no retained messages, and nobody listened while every replica was
  // down or the broker restarted: read the retained statuses at start and after every reconnect.
  const sync = (): void => {
    syncPresenceFromRetained({ ...deps, instanceId: shared.instanceId, enqueue, tell }).catch((err: unknown) => log.warn('presence sync failed', { err }));
  };
  let lost = false;
  deps.transport.onState((s) => {
    if (s.state !== 'connected') lost = true;
    else if (lost) {
      lost = false;
      sync();
    }
  });
  await syncPresenceFromRetained({ ...deps, instanceId: shared.instanceId, enqueue, tell });
}
