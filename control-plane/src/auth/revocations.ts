import { decodeJson, encodeJson, filterFor, Revocation, topicFor, type Logger } from '@edgehook/shared';
import type { Transport } from '@edgehook/shared/transport';
import type { FleetEvents } from '../events/fleet-events.js';
import type { LiveSockets } from './live-sockets.js';

/**
 * Revocations travel over the bus (topic `revocations`, QoS 1), so every replica closes its own
 * sockets for a session, user, role or device that changed anywhere. The replica that made the
 * change applies it locally at once as well: closing twice is harmless.
 */
export class Revocations {
  private readonly listeners = new Set<(r: Revocation) => void>();

  constructor(private readonly deps: { transport: Transport; sockets: LiveSockets; events: FleetEvents; log: Logger }) {}

  async start(): Promise<void> {
    await this.deps.transport.subscribe(filterFor('revocations'), (_topic, payload) => {
      const decoded = decodeJson(Revocation, payload);
      if (decoded.ok) this.applyLocal(decoded.value);
      else this.deps.log.warn('ignored malformed revocation', { error: decoded.error });
    });
    // A deleted device is already announced to every replica as a fleet event.
    this.deps.events.subscribe((event) => {
      if (event.type === 'device.deleted') this.applyLocal({ type: 'device', deviceId: event.deviceId, reason: 'device deleted' });
    });
  }

  async announce(r: Revocation): Promise<void> {
    this.applyLocal(r);
    try {
      await this.deps.transport.publish(topicFor('revocations', {}), encodeJson(r), { qos: 1 });
    } catch (err) {
      this.deps.log.error('could not announce a revocation to other replicas', { err, revocation: r.type });
    }
  }

  /** Called with every revocation applied here, local or from another replica (the authenticator's cache). */
  onApply(listener: (r: Revocation) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private applyLocal(r: Revocation): void {
    for (const listener of this.listeners) listener(r);
    const closed = this.deps.sockets.apply(r);
    if (closed > 0) this.deps.log.info('revoked live sockets', { type: r.type, closed, reason: r.reason });
  }
}

/** What routes need to announce a change; absent in tests that build the app without a bus. */
export interface RevocationSink {
  announce(r: Revocation): Promise<void>;
}
