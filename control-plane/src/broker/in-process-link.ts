import type { Aedes, AedesPublishPacket } from 'aedes';
import type { Logger } from '@edgehook/shared';
import { NotConnectedError, type LinkState, type MessageHandler, type PublishOptions, type SubscribeOptions, type Transport } from '@edgehook/shared/transport';

type Deliver = (packet: AedesPublishPacket, done: () => void) => void;

/**
 * The control plane's link to its own embedded broker without a socket: publishes go straight to
 * aedes and subscriptions listen on its emitter. The MQTT link over loopback costs an encode, a
 * TCP round through the kernel and a parse per message and direction (0.13-0.17 ms a hop at p50
 * per keystroke, measured: BENCHMARKS.md, shell), which this removes from the stream path.
 *
 * Only for topics that are never retained (the streams): an in-process subscription gets no
 * retained messages, and shared subscriptions do not exist here (one instance owns the broker).
 */
export class InProcessLink implements Transport {
  private open = true;
  private readonly listeners = new Set<(s: LinkState) => void>();
  private readonly subscriptions = new Set<{ filter: string; deliver: Deliver }>();

  constructor(
    private readonly broker: Aedes,
    private readonly log: Logger,
  ) {}

  get connected(): boolean {
    return this.open;
  }

  publish(topic: string, payload: Buffer | string, opts: PublishOptions = {}): Promise<void> {
    if (!this.open) return Promise.reject(new NotConnectedError());
    return new Promise((resolve, reject) => {
      this.broker.publish({ cmd: 'publish', topic, payload, qos: opts.qos ?? 0, retain: opts.retain ?? false, dup: false }, (err) => (err ? reject(err) : resolve()));
    });
  }

  async subscribe(filter: string, handler: MessageHandler, opts: SubscribeOptions = {}): Promise<() => Promise<void>> {
    if (!this.open) throw new NotConnectedError();
    if (opts.share) throw new Error('shared subscriptions need the MQTT link');
    const deliver: Deliver = (packet, done) => {
      try {
        handler(packet.topic, typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload);
      } catch (err) {
        this.log.error('message handler failed', { topic: packet.topic, err });
      }
      done();
    };
    const entry = { filter, deliver };
    this.subscriptions.add(entry);
    await new Promise<void>((resolve) => this.broker.subscribe(filter, deliver, resolve));
    return () => this.unsubscribe(entry);
  }

  onState(listener: (s: LinkState) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async close(): Promise<void> {
    if (!this.open) return;
    this.open = false;
    await Promise.all([...this.subscriptions].map((s) => this.unsubscribe(s)));
    for (const l of this.listeners) l({ state: 'disconnected', reason: 'closed' });
  }

  private unsubscribe(entry: { filter: string; deliver: Deliver }): Promise<void> {
    if (!this.subscriptions.delete(entry)) return Promise.resolve();
    return new Promise((resolve) => this.broker.unsubscribe(entry.filter, entry.deliver, resolve));
  }
}
