import { decodeJson, encodeJson, filterFor, FleetEvent, topicFor, type Logger } from '@edgehook/shared';
import type { Transport } from '@edgehook/shared/transport';

type Listener = (event: FleetEvent) => void;

/**
 * Operator-facing events. Registration, edits and deletions are announced on the broker so every
 * control-plane replica (each feeding its own websocket clients) sees them; presence events come
 * from the device status topics, which every replica receives anyway.
 */
export class FleetEvents {
  private readonly listeners = new Set<Listener>();

  constructor(private readonly transport: Transport, private readonly log: Logger) {}

  async start(): Promise<void> {
    await this.transport.subscribe(filterFor('fleetEvents'), (_topic, payload) => {
      const decoded = decodeJson(FleetEvent, payload);
      if (decoded.ok) this.emitLocal(decoded.value);
      else this.log.warn('ignored malformed fleet event', { error: decoded.error });
    });
  }

  /** Tells every replica (including this one, through the broker). */
  async announce(event: FleetEvent): Promise<void> {
    try {
      await this.transport.publish(topicFor('fleetEvents', {}), encodeJson(event), { qos: 0 });
    } catch (err) {
      // The broker is down: at least this replica's clients hear about it.
      this.log.warn('could not announce fleet event, delivering locally', { err });
      this.emitLocal(event);
    }
  }

  emitLocal(event: FleetEvent): void {
    for (const l of this.listeners) {
      try {
        l(event);
      } catch (err) {
        this.log.error('fleet event listener failed', { err });
      }
    }
  }

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
