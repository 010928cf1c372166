import type { Kysely } from 'kysely';
import { decodeJson, encodeJson, filterFor, matchTopic, PerfkitState, topicFor, type Clock, type Logger } from '@edgehook/shared';
import type { Transport } from '@edgehook/shared/transport';
import type { Database } from '../db/database.js';
import { listDesired, saveSchema } from './perfkit.repository.js';

/**
 * Every device's Perfkit picture on this replica: the retained `perfkitState` (sessions, declared
 * configs, reported values) as it arrives, declarations kept in the store so an offline device's
 * configs can still be edited, and the desired document published retained on
 * `perfkitDesired` after each edit and on each `hello` (a replica that restarted, a broker that
 * lost its retained copy): an offline device gets the latest when it connects.
 */
export class PerfkitHub {
  private readonly states = new Map<string, { state: PerfkitState; receivedAt: number }>();
  /** The declaration text last saved per device and scope, so an unchanged one is not written again. */
  private readonly saved = new Map<string, string>();

  /**
   * `helloShare`: with several replicas, the shared group `hello` is already subscribed in
   * (presence's): one replica answers each hello, and a starting replica does not re-publish every
   * device's desired document (the broker still holds them, retained). A plain subscription here
   * would get every hello on every replica, plus, on the same link, each copy twice.
   */
  constructor(private readonly deps: { db: Kysely<Database>; transport: Transport; clock: Clock; log: Logger; helloShare?: string | undefined }) {}

  async start(): Promise<void> {
    await this.deps.transport.subscribe(filterFor('perfkitState'), (topic, payload) => {
      const deviceId = matchTopic(topic)?.params['deviceId'];
      if (!deviceId) return;
      if (payload.length === 0) {
        this.states.delete(deviceId);
        return;
      }
      const decoded = decodeJson(PerfkitState, payload);
      if (!decoded.ok) return this.deps.log.warn('malformed perfkit state', { deviceId, error: decoded.error });
      this.states.set(deviceId, { state: decoded.value, receivedAt: this.deps.clock.now() });
      void this.keepSchemas(deviceId, decoded.value).catch((err: unknown) => this.deps.log.warn('perfkit declarations not saved', { deviceId, err }));
    });
    const share = this.deps.helloShare;
    await this.deps.transport.subscribe(filterFor('hello'), (topic, _payload, meta) => {
      const deviceId = matchTopic(topic)?.params['deviceId'];
      if (share !== undefined && meta?.retained === true) return;
      if (deviceId) void this.publishDesired(deviceId).catch((err: unknown) => this.deps.log.warn('desired configs not published', { deviceId, err }));
    }, share !== undefined ? { share } : {});
  }

  private async keepSchemas(deviceId: string, state: PerfkitState): Promise<void> {
    for (const c of state.configs) {
      const key = `${deviceId}/${c.scope}`;
      const text = JSON.stringify(c.classes);
      if (this.saved.get(key) === text) continue;
      // The device may have been deleted meanwhile: a declaration is kept only for a known device.
      const known = await this.deps.db.selectFrom('devices').select('id').where('id', '=', deviceId).executeTakeFirst();
      if (!known) return;
      await saveSchema(this.deps.db, deviceId, c.scope, c.classes, this.deps.clock.now());
      this.saved.set(key, text);
    }
  }

  get(deviceId: string): { state: PerfkitState; receivedAt: number } | undefined {
    return this.states.get(deviceId);
  }

  async publishDesired(deviceId: string): Promise<void> {
    const doc = await listDesired(this.deps.db, deviceId);
    if (doc.entries.length === 0 && doc.seq === 0) return;
    await this.deps.transport.publish(topicFor('perfkitDesired', { deviceId }), encodeJson(doc), { qos: 1, retain: true });
  }
}
