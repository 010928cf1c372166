/**
 * The message link both programs use: MQTT in production, an in-memory bus in tests of
 * code that only needs pub/sub. One contract suite runs over both (shared/test/transport.contract.ts).
 */
/**
 * `meta.retained`: the broker sent a stored retained message because of a new subscription (MQTT
 * clears the flag on live deliveries). Shared subscriptions never get those, so a shared handler
 * seeing one is looking at the copy meant for a plain subscription to the same filter on the link.
 */
export interface MessageMeta {
  retained: boolean;
}

export type MessageHandler = (topic: string, payload: Buffer, meta?: MessageMeta) => void;

export interface PublishOptions {
  qos?: 0 | 1;
  retain?: boolean;
}

export interface SubscribeOptions {
  qos?: 0 | 1;
  /**
   * A shared subscription group (`$share/<group>/<filter>`): the broker hands each message to one
   * member of the group, so work is done once across control-plane replicas. Never subscribe to
   * the same filter shared and unshared on one link: MQTT 3.1.1 cannot tell the copies apart.
   */
  share?: string;
}

const SHARE_PREFIX = /^\$share\/[^/]+\//;

/** The filter as sent to the broker: `$share/<group>/<filter>` for a shared subscription. */
export function brokerFilter(filter: string, share?: string): string {
  return share ? `$share/${share}/${filter}` : filter;
}

export type LinkState =
  | { state: 'connected' }
  /** `reason` is set when the broker refused us: `not-authorized` tells a revoked device to stop. */
  | { state: 'disconnected'; reason?: 'not-authorized' | 'identifier-rejected' | 'tls' | 'closed' | 'error'; error?: string; retryInMs?: number };

export interface Transport {
  readonly connected: boolean;
  /** Rejects when offline: nothing is queued in memory (callers choose to drop or buffer on disk). */
  publish(topic: string, payload: Buffer | string, opts?: PublishOptions): Promise<void>;
  /** Subscriptions survive reconnects. The returned function unsubscribes. */
  subscribe(filter: string, handler: MessageHandler, opts?: SubscribeOptions): Promise<() => Promise<void>>;
  onState(listener: (s: LinkState) => void): () => void;
  close(): Promise<void>;
}

export class NotConnectedError extends Error {
  constructor() {
    super('not connected to the broker');
    this.name = 'NotConnectedError';
  }
}

/** MQTT topic filter matching with `+` and `#`. */
export function topicMatches(filter: string, topic: string): boolean {
  return levelsMatch(filter.split('/'), topic.split('/'));
}

function levelsMatch(f: readonly string[], t: readonly string[]): boolean {
  for (let i = 0; i < f.length; i++) {
    const part = f[i];
    if (part === '#') return true;
    if (i >= t.length) return false;
    if (part !== '+' && part !== t[i]) return false;
  }
  return f.length === t.length;
}

/** Keeps handlers per filter and dispatches an incoming message to every matching one. */
export class HandlerTable {
  // Filter levels split once (share prefix removed): a replica dispatches thousands of messages a second.
  private readonly entries = new Map<string, { levels: string[]; handlers: Set<MessageHandler> }>();

  add(filter: string, handler: MessageHandler): { first: boolean } {
    let entry = this.entries.get(filter);
    const first = entry === undefined;
    if (!entry) {
      entry = { levels: filter.replace(SHARE_PREFIX, '').split('/'), handlers: new Set() };
      this.entries.set(filter, entry);
    }
    entry.handlers.add(handler);
    return { first };
  }

  remove(filter: string, handler: MessageHandler): { last: boolean } {
    const set = this.entries.get(filter)?.handlers;
    if (!set) return { last: false };
    set.delete(handler);
    if (set.size > 0) return { last: false };
    this.entries.delete(filter);
    return { last: true };
  }

  filters(): string[] {
    return [...this.entries.keys()];
  }

  dispatch(topic: string, payload: Buffer, onError: (err: unknown) => void, meta?: MessageMeta): void {
    const levels = topic.split('/');
    for (const { levels: filterLevels, handlers } of this.entries.values()) {
      if (!levelsMatch(filterLevels, levels)) continue;
      for (const handler of handlers) {
        try {
          handler(topic, payload, meta);
        } catch (err) {
          onError(err);
        }
      }
    }
  }
}
