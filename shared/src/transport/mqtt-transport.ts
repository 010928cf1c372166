import { Socket } from 'node:net';
import type { MqttClient, IClientOptions } from 'mqtt';
import { backoffDelay, type Logger } from '../runtime.js';
import { describeTlsError, tlsOptionsFor, tlsTarget, type TlsTrust } from './tls-trust.js';
import { brokerFilter, HandlerTable, NotConnectedError, type LinkState, type MessageHandler, type PublishOptions, type SubscribeOptions, type Transport } from './transport.js';

export interface MqttTransportOptions {
  url: string;
  clientId: string;
  username: string;
  password: string;
  /** Seconds; the broker declares us dead after 1.5x this without traffic. */
  keepalive?: number;
  /** A function payload is evaluated before every connection attempt (e.g. a per-connection session id). */
  will?: { topic: string; payload: Buffer | string | (() => Buffer | string); qos?: 0 | 1; retain?: boolean };
  backoff?: { baseMs: number; maxMs: number };
  /** Published (retained as given) after every successful connect, before state listeners run. */
  onConnectMessages?: () => Array<{ topic: string; payload: Buffer | string; qos?: 0 | 1; retain?: boolean }>;
  log: Logger;
  /**
   * Small memory over packet-encoding speed: mqtt-packet otherwise pre-builds 65,536 two-byte
   * Buffers (~6 MB of heap, measured on the agent), worth it for a broker, not for one device link.
   */
  lean?: boolean;
  /** How to trust the broker of an mqtts:// or wss:// URL (default: the system CAs). */
  tls?: TlsTrust | undefined;
}

// MQTT 3.1.1 CONNACK return codes.
const IDENTIFIER_REJECTED = 2;
const BAD_CREDENTIALS = 4;
const NOT_AUTHORIZED = 5;

function connackCode(err: unknown): number | undefined {
  if (typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'number') return err.code;
  return undefined;
}

/**
 * mqtt.js with the traps of the field removed: TCP_NODELAY (else ~40 ms per hop),
 * no in-memory offline queue, and our own capped, jittered reconnect backoff
 * instead of a fixed period (a fleet retrying in lockstep hammers a restarted broker).
 */
export async function connectMqtt(opts: MqttTransportOptions): Promise<MqttTransport> {
  const imported = await import('mqtt');
  // The agent's split bundle hands the CommonJS module over as the default export only.
  const connect = typeof imported.connect === 'function' ? imported.connect : imported.default.connect;
  const options: IClientOptions = {
    clientId: opts.clientId,
    username: opts.username,
    password: opts.password,
    protocolVersion: 4,
    clean: true,
    keepalive: opts.keepalive ?? 15,
    reconnectPeriod: 0,
    connectTimeout: 10_000,
    queueQoSZero: false,
    // We resubscribe ourselves before announcing presence, so nobody calls us before we listen.
    resubscribe: false,
    manualConnect: true,
    ...(opts.lean ? { writeCache: false } : {}),
  };
  const client = connect(opts.url, options);
  return new MqttTransport(client, opts);
}

export class MqttTransport implements Transport {
  private readonly handlers = new HandlerTable();
  private readonly listeners = new Set<(s: LinkState) => void>();
  private attempt = 0;
  private closed = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private lastRefusal: LinkState | undefined;
  /** The socket or protocol error behind the next close (e.g. ECONNREFUSED), for the reconnect log. */
  private lastError: string | undefined;
  private readonly subscribeQos = 1;

  constructor(private readonly client: MqttClient, private readonly opts: MqttTransportOptions) {
    client.on('connect', () => this.onConnect());
    client.on('message', (topic, payload, packet) => {
      this.handlers.dispatch(topic, payload, (err) => opts.log.error('message handler failed', { topic, err }), { retained: packet.retain });
    });
    client.on('error', (err) => {
      const code = connackCode(err);
      if (code === BAD_CREDENTIALS || code === NOT_AUTHORIZED) this.lastRefusal = { state: 'disconnected', reason: 'not-authorized', error: err.message };
      else if (code === IDENTIFIER_REJECTED) this.lastRefusal = { state: 'disconnected', reason: 'identifier-rejected', error: err.message };
      else {
        this.lastError = err.message;
        const words = this.tlsTarget ? describeTlsError(err, opts.url) : undefined;
        if (words) {
          this.lastRefusal = { state: 'disconnected', reason: 'tls', error: words };
          opts.log.error('TLS refused', { error: words });
        } else opts.log.debug('mqtt error', { err: err.message });
      }
    });
    client.on('close', () => this.onClose());
    this.armWill();
    this.tlsTarget = tlsTarget(opts.url);
    this.attemptConnect(() => client.connect());
  }

  private tlsTarget: { host: string; port: number } | undefined;

  /**
   * TLS options are worked out before every attempt: a pinned fingerprint reads the server's
   * certificate first, and a mismatch is a refusal (logged, retried with backoff), never ignored.
   */
  private attemptConnect(go: () => void): void {
    const target = this.tlsTarget;
    if (!target) return go();
    tlsOptionsFor(this.opts.tls ?? {}, target).then(
      (tls) => {
        if (this.closed) return;
        Object.assign(this.client.options, tls, { wsOptions: { ...this.client.options.wsOptions, ...tls } });
        go();
      },
      (err: unknown) => {
        if (this.closed) return;
        const words = describeTlsError(err, this.opts.url) ?? (err instanceof Error ? err.message : String(err));
        if (describeTlsError(err, this.opts.url)) this.opts.log.error('TLS refused', { error: words });
        this.lastRefusal = { state: 'disconnected', reason: describeTlsError(err, this.opts.url) ? 'tls' : 'error', error: words };
        this.onClose();
      },
    );
  }

  /** mqtt.js builds each CONNECT from client.options, so a fresh will goes in before every attempt. */
  private armWill(): void {
    const will = this.opts.will;
    if (!will) return;
    const payload = typeof will.payload === 'function' ? will.payload() : will.payload;
    this.client.options.will = { topic: will.topic, payload: Buffer.from(payload), qos: will.qos ?? 1, retain: will.retain ?? false };
  }

  get connected(): boolean {
    return this.client.connected;
  }

  private emit(s: LinkState): void {
    for (const l of this.listeners) {
      try {
        l(s);
      } catch (err) {
        this.opts.log.error('link state listener failed', { err });
      }
    }
  }

  private onConnect(): void {
    this.attempt = 0;
    this.lastRefusal = undefined;
    this.lastError = undefined;
    if (this.client.stream instanceof Socket) this.client.stream.setNoDelay(true);
    const filters = this.handlers.filters();
    const subscribed = filters.length === 0 ? Promise.resolve() : this.sendSubscribe(filters, this.subscribeQos);
    subscribed
      .then(() => {
        for (const m of this.opts.onConnectMessages?.() ?? []) {
          this.client.publish(m.topic, Buffer.from(m.payload), { qos: m.qos ?? 1, retain: m.retain ?? false });
        }
        this.emit({ state: 'connected' });
      })
      .catch((err: unknown) => {
        this.opts.log.error('resubscribe failed; reconnecting', { err });
        this.client.end(true);
      });
  }

  private sendSubscribe(filters: string[], qos: 0 | 1): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.client.subscribe(filters, { qos }, (err, granted) => {
        if (err) return reject(err);
        const refused = granted?.filter((g) => g.qos === 128).map((g) => g.topic) ?? [];
        if (refused.length > 0) return reject(new Error(`subscription to ${refused.join(', ')} refused by the broker`));
        resolve();
      });
    });
  }

  private onClose(): void {
    if (this.closed) return;
    if (this.retryTimer) return;
    const delay = backoffDelay(this.attempt++, this.opts.backoff ?? { baseMs: 1000, maxMs: 60_000 });
    const refusal = this.lastRefusal;
    const error = this.lastError;
    this.lastError = undefined;
    this.emit(refusal && refusal.state === 'disconnected' ? { ...refusal, retryInMs: delay } : { state: 'disconnected', reason: 'closed', ...(error !== undefined ? { error } : {}), retryInMs: delay });
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      if (this.closed) return;
      this.armWill();
      this.attemptConnect(() => this.client.reconnect());
    }, delay);
  }

  async publish(topic: string, payload: Buffer | string, opts: PublishOptions = {}): Promise<void> {
    if (!this.client.connected) throw new NotConnectedError();
    await new Promise<void>((resolve, reject) => {
      this.client.publish(topic, typeof payload === 'string' ? payload : payload, { qos: opts.qos ?? 0, retain: opts.retain ?? false }, (err) => (err ? reject(err) : resolve()));
    });
  }

  /** Registers at once; the broker is told now if connected, else on the next connect. */
  async subscribe(topicFilter: string, handler: MessageHandler, opts: SubscribeOptions = {}): Promise<() => Promise<void>> {
    // Handlers are kept under the filter as the broker knows it, so a reconnect resubscribes it as shared.
    const filter = brokerFilter(topicFilter, opts.share);
    const { first } = this.handlers.add(filter, handler);
    if (first && this.client.connected) {
      await this.sendSubscribe([filter], opts.qos ?? this.subscribeQos).catch((err: unknown) => {
        this.handlers.remove(filter, handler);
        throw err;
      });
    }
    return async () => {
      const { last } = this.handlers.remove(filter, handler);
      if (last && this.client.connected) await this.client.unsubscribeAsync(filter);
    };
  }

  onState(listener: (s: LinkState) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Publishes the given messages (e.g. presence "offline") and disconnects cleanly, so no will fires. */
  async close(finalMessages: Array<{ topic: string; payload: Buffer | string; retain?: boolean }> = []): Promise<void> {
    this.closed = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    if (this.client.connected) {
      for (const m of finalMessages) {
        await this.client.publishAsync(m.topic, Buffer.from(m.payload), { qos: 1, retain: m.retain ?? false }).catch(() => undefined);
      }
    }
    // A QoS 1 publish whose connection died before its ack is never acknowledged on a clean
    // session, and mqtt.js would wait for it forever: a graceful end gets 2 s, then it is forced.
    let timer: NodeJS.Timeout | undefined;
    const graceful = this.client.endAsync(false).then(
      () => true,
      () => true,
    );
    const ended = await Promise.race([graceful, new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), 2000)))]);
    clearTimeout(timer);
    if (!ended) {
      this.client.disconnecting = false;
      await this.client.endAsync(true).catch(() => undefined);
    }
  }
}

export { NotConnectedError };
