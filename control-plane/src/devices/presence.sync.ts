import { randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import { decodeJson, encodeJson, filterFor, matchTopic, PresenceMessage, topicFor, Topics, type Clock, type FleetEvent, type Logger } from '@edgehook/shared';
import type { Transport } from '@edgehook/shared/transport';
import type { Database } from '../db/database.js';
import { markOffline, markOnline } from './devices.repository.js';

export interface PresenceSyncDeps {
  db: Kysely<Database>;
  transport: Transport;
  clock: Clock;
  log: Logger;
  instanceId: string;
  enqueue(deviceId: string, work: () => Promise<void>): void;
  tell(event: FleetEvent): void;
}

/**
 * Reads every retained status (a plain subscription gets them, a shared one does not), then
 * brings the store in line: a device with no retained status has not connected since the broker
 * started. The end of the retained burst is a barrier message this replica sends itself: the
 * broker queues it after the retained messages of the subscribe that came first.
 */
export async function syncPresenceFromRetained(deps: PresenceSyncDeps, timeoutMs = 30_000): Promise<void> {
  const { transport, db, clock, log } = deps;
  const seen = new Map<string, PresenceMessage>();
  const barrierTopic = topicFor('barrier', { cp: deps.instanceId });
  const barrierId = randomBytes(8).toString('hex');
  let release!: () => void;
  const arrived = new Promise<void>((resolve) => (release = resolve));
  const offStatus = await transport.subscribe(filterFor('status'), (topic, payload) => {
    const deviceId = matchTopic(topic)?.params['deviceId'];
    if (!deviceId || payload.length === 0) return;
    const msg = decodeJson(PresenceMessage, payload);
    if (msg.ok) seen.set(deviceId, msg.value);
  });
  const offBarrier = await transport.subscribe(barrierTopic, (_topic, payload) => {
    const msg = decodeJson(Topics.barrier.schema, payload);
    if (msg.ok && msg.value.id === barrierId) release();
  });
  let timer: NodeJS.Timeout | undefined;
  try {
    await transport.publish(barrierTopic, encodeJson({ id: barrierId }), { qos: 1 });
    await Promise.race([arrived, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('the retained statuses did not arrive in time')), timeoutMs)))]);
  } finally {
    clearTimeout(timer);
    await offStatus().catch(() => undefined);
    await offBarrier().catch(() => undefined);
  }
  // Quix WSI backends have no retained status: their presence follows their /wsi socket (wsi/).
  const rows = await db.selectFrom('devices').select(['id', 'online', 'presence_session']).where('transport', '=', 'mqtt').execute();
  let changed = 0;
  for (const row of rows) {
    const msg = seen.get(row.id);
    const session = msg?.session ?? null;
    if (msg?.state === 'online') {
      if (row.online === 1 && row.presence_session === session) continue;
      changed++;
      deps.enqueue(row.id, async () => {
        const now = clock.now();
        if ((await markOnline(db, row.id, session, now)) && row.online !== 1) deps.tell({ type: 'device.online', deviceId: row.id, ts: now });
      });
    } else if (row.online === 1) {
      changed++;
      deps.enqueue(row.id, async () => {
        const now = clock.now();
        if (await markOffline(db, row.id, msg ? session : null, now)) deps.tell({ type: 'device.offline', deviceId: row.id, ts: now });
      });
    }
  }
  log.info('presence synced from the broker', { retained: seen.size, devices: rows.length, changed });
}
