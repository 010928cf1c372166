import { decodeJson, encodeJson, matchTopic, PresenceMessage, topicFor } from '@edgehook/shared';

/**
 * Presence from the broker's own view of connections, for clients that connect without a will
 * (or whose will never fires): the last status a device published is remembered per connection,
 * and when that connection ends while it still said "online", the broker side publishes the
 * retained `offline` the will would have, with the same session. The presence handler applies it
 * like any will (per session, so an older connection cannot mark a newer one offline).
 *
 * Broker-neutral: the embedded broker feeds it from aedes events (clientDisconnect); a subscriber-
 * side source (an external broker's $SYS disconnect notices) can call the same two methods.
 */
export class ConnectionPresence {
  private readonly lastStatus = new Map<object, { deviceId: string; message: PresenceMessage }>();

  /** A publish by `connection` (any identity object for one connection) on `topic`. */
  published(connection: object, topic: string, payload: Buffer): void {
    const m = matchTopic(topic);
    if (m?.name !== 'status' || payload.length === 0) return;
    const decoded = decodeJson(PresenceMessage, payload);
    const deviceId = m.params['deviceId'];
    if (decoded.ok && deviceId) this.lastStatus.set(connection, { deviceId, message: decoded.value });
  }

  /** The connection ended: the status to publish for it (retained), if it was left "online". */
  disconnected(connection: object, now: number): { topic: string; payload: Buffer } | undefined {
    const last = this.lastStatus.get(connection);
    this.lastStatus.delete(connection);
    if (!last || last.message.state !== 'online') return undefined;
    const offline: PresenceMessage = { state: 'offline', ts: now, ...(last.message.session !== undefined ? { session: last.message.session } : {}) };
    return { topic: topicFor('status', { deviceId: last.deviceId }), payload: encodeJson(offline) };
  }
}
