import { HandlerTable, NotConnectedError, topicMatches, type LinkState, type MessageHandler, type PublishOptions, type Transport } from './transport.js';

/**
 * An in-process broker for unit tests of pub/sub logic: retained messages and
 * a last will behave as on a real broker. Not a stand-in for end-to-end tests.
 */
export class MemoryBroker {
  private readonly clients = new Set<MemoryTransport>();
  private readonly retained = new Map<string, Buffer>();

  connect(opts: { will?: { topic: string; payload: Buffer | string; retain?: boolean } } = {}): MemoryTransport {
    const client = new MemoryTransport(this, opts.will);
    this.clients.add(client);
    return client;
  }

  /** @internal */
  deliver(topic: string, payload: Buffer, retain: boolean): void {
    if (retain) {
      if (payload.length === 0) this.retained.delete(topic);
      else this.retained.set(topic, payload);
    }
    // Delivery is asynchronous, as over a socket, so callers cannot rely on re-entrancy.
    queueMicrotask(() => {
      for (const client of this.clients) client.receive(topic, payload);
    });
  }

  /** @internal */
  retainedFor(filter: string): Array<[string, Buffer]> {
    return [...this.retained].filter(([topic]) => topicMatches(filter, topic));
  }

  /** @internal */
  drop(client: MemoryTransport, publishWill: boolean): void {
    this.clients.delete(client);
    const will = client.will;
    if (publishWill && will) this.deliver(will.topic, Buffer.from(will.payload), will.retain ?? false);
  }

  /** Simulates a dead connection: the will is published. */
  kill(client: MemoryTransport): void {
    client.markDead();
    this.drop(client, true);
  }
}

export class MemoryTransport implements Transport {
  private readonly handlers = new HandlerTable();
  private readonly listeners = new Set<(s: LinkState) => void>();
  private alive = true;

  constructor(private readonly broker: MemoryBroker, readonly will?: { topic: string; payload: Buffer | string; retain?: boolean }) {}

  get connected(): boolean {
    return this.alive;
  }

  async publish(topic: string, payload: Buffer | string, opts: PublishOptions = {}): Promise<void> {
    if (!this.alive) throw new NotConnectedError();
    this.broker.deliver(topic, Buffer.from(payload), opts.retain ?? false);
  }

  async subscribe(filter: string, handler: MessageHandler): Promise<() => Promise<void>> {
    if (!this.alive) throw new NotConnectedError();
    this.handlers.add(filter, handler);
    for (const [topic, payload] of this.broker.retainedFor(filter)) queueMicrotask(() => handler(topic, payload, { retained: true }));
    return async () => {
      this.handlers.remove(filter, handler);
    };
  }

  onState(listener: (s: LinkState) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async close(): Promise<void> {
    if (!this.alive) return;
    this.alive = false;
    this.broker.drop(this, false);
    for (const l of this.listeners) l({ state: 'disconnected', reason: 'closed' });
  }

  /** @internal */
  receive(topic: string, payload: Buffer): void {
    if (this.alive) this.handlers.dispatch(topic, payload, () => undefined, { retained: false });
  }

  /** @internal */
  markDead(): void {
    this.alive = false;
    for (const l of this.listeners) l({ state: 'disconnected', reason: 'error' });
  }
}
