import { decodeJson, filterFor, HwEvent, matchTopic, type Logger } from '@edgehook/shared';
import type { Transport } from '@edgehook/shared/transport';

type Listener = (event: HwEvent) => void;

/**
 * Hardware state changes from devices (topic hwState), fanned out to this replica's sockets per
 * device. Every replica subscribes, so a PiKVM socket on any of them sees its device's changes.
 */
export class HardwareEvents {
  private readonly byDevice = new Map<string, Set<Listener>>();

  constructor(private readonly transport: Transport, private readonly log: Logger) {}

  async start(): Promise<void> {
    await this.transport.subscribe(filterFor('hwState'), (topic, payload) => {
      const deviceId = matchTopic(topic)?.params['deviceId'];
      const listeners = deviceId ? this.byDevice.get(deviceId) : undefined;
      if (!listeners) return;
      const decoded = decodeJson(HwEvent, payload);
      if (!decoded.ok) {
        this.log.warn('malformed hardware event', { deviceId, error: decoded.error });
        return;
      }
      for (const l of listeners) {
        try {
          l(decoded.value);
        } catch (err) {
          this.log.error('hardware event listener failed', { err });
        }
      }
    });
  }

  subscribe(deviceId: string, listener: Listener): () => void {
    let set = this.byDevice.get(deviceId);
    if (!set) {
      set = new Set();
      this.byDevice.set(deviceId, set);
    }
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0) this.byDevice.delete(deviceId);
    };
  }
}
