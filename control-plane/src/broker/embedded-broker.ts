import { createServer, type Server } from 'node:net';
import { createServer as createTlsServer, type SecureContextOptions, type Server as TlsServer } from 'node:tls';
import type { Duplex } from 'node:stream';
import type { IncomingMessage } from 'node:http';
import { Aedes, type AuthenticateError, type Client } from 'aedes';
import { createRequire } from 'node:module';
import type { AedesMemoryPersistence } from 'aedes-persistence';
import type { Logger } from '@edgehook/shared';
import type { BrokerPolicy } from './broker-policy.js';
import { skipImpossibleRetainedScans } from './retained-filter.js';
import { deliverOverlapsOnce } from './in-order-delivery.js';
import { ConnectionPresence } from './connection-presence.js';
import type { IncumbentSilence } from './broker-policy.js';
import { InProcessLink } from './in-process-link.js';

// aedes-persistence is CommonJS whose typings claim an ES default export; require gives the factory.
const memoryPersistence: () => AedesMemoryPersistence = createRequire(import.meta.url)('aedes-persistence');

/** The embedded broker's own connection handling; createEmbeddedAdmin (embedded-admin.ts) builds the BrokerAdmin on it. */
export interface BrokerConnections {
  /** Drops a device's connection at once (after its credentials are revoked). */
  disconnect(clientId: string): Promise<void>;
  /** Live MQTT connections (devices and control-plane clients). */
  connectedCount(): number;
}

export interface EmbeddedBroker extends BrokerConnections {
  readonly port: number;
  /** MQTT over TLS, when started with `tls`. */
  readonly tlsPort: number | undefined;
  /** New certificate for new connections; live ones keep theirs (SIGHUP reload). */
  setSecureContext(options: SecureContextOptions): void;
  /** Serves MQTT over a websocket stream (the `/mqtt` path of the HTTP server). */
  handleStream(stream: Duplex, req: IncomingMessage): void;
  /** A socketless link into this broker for the stream relay (never-retained topics only). */
  readonly streamLink: InProcessLink;
  close(): Promise<void>;
}

function authError(message: string, code: 2 | 3 | 4 | 5): AuthenticateError {
  return Object.assign(new Error(message), { returnCode: code });
}

function usernameOf(client: Client | null): string | undefined {
  if (!client) return undefined;
  const value: unknown = Reflect.get(client, 'edgehookUser');
  return typeof value === 'string' ? value : undefined;
}

function isLive(broker: Aedes, clientId: string): Client | undefined {
  const clients: unknown = Reflect.get(broker, 'clients');
  if (typeof clients !== 'object' || clients === null) return undefined;
  const client: unknown = Reflect.get(clients, clientId);
  return isClient(client) ? client : undefined;
}

/** aedes keeps its clients in a plain object; a live one has its id and can be closed. */
function isClient(value: unknown): value is Client {
  return typeof value === 'object' && value !== null && typeof Reflect.get(value, 'id') === 'string' && typeof Reflect.get(value, 'close') === 'function';
}

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    server.once('error', reject);
    // A fleet reconnecting at once overflows Node's default queue of 511 (tens of thousands of
    // kernel drops per restart at 5,000 devices, measured), so clients time out and retry later.
    server.listen({ port, host, backlog: 4096 }, () => {
      server.off('error', reject);
      const address = server.address();
      resolve(typeof address === 'object' && address ? address.port : port);
    });
  });
}

export async function startEmbeddedBroker(opts: {
  host: string;
  port: number;
  policy: (isConnected: (id: string) => boolean, silence: IncumbentSilence) => BrokerPolicy;
  log: Logger;
  tls?: { host: string; port: number; context: SecureContextOptions };
}): Promise<EmbeddedBroker> {
  const { log } = opts;
  let broker!: Aedes;
  // When each connection last sent a byte, and the keepalive it promised: a connection silent for
  // longer than its own keepalive is stalled, and its device may take it over (broker-policy.ts).
  const lastRx = new WeakMap<Client, number>();
  const keepaliveMs = new WeakMap<Client, number>();
  const presence = new ConnectionPresence();
  const policy = opts.policy(
    (id) => {
      const c = isLive(broker, id);
      return c !== undefined && !c.closed;
    },
    (id) => {
      const c = isLive(broker, id);
      if (!c || c.closed) return undefined;
      return { silentMs: Date.now() - (lastRx.get(c) ?? 0), keepaliveMs: keepaliveMs.get(c) ?? 0 };
    },
  );

  broker = await Aedes.createBroker({
    connectTimeout: 10_000,
    persistence: skipImpossibleRetainedScans(memoryPersistence()),
    preConnect(client, packet, done) {
      deliverOverlapsOnce(client);
      keepaliveMs.set(client, packet.cmd === 'connect' ? (packet.keepalive ?? 0) * 1000 : 0);
      lastRx.set(client, Date.now());
      client.conn.on('data', () => lastRx.set(client, Date.now()));
      done(null, true);
    },
    authenticate(client, username, password, done) {
      policy.authenticate(client.id, username, password?.toString('utf8')).then(
        (result) => {
          if (result.ok) {
            Reflect.set(client, 'edgehookUser', username);
            done(null, true);
          } else {
            log.warn('mqtt connection refused', { clientId: client.id, reason: result.reason });
            done(authError(result.reason, result.returnCode), false);
          }
        },
        (err: unknown) => {
          log.error('mqtt authentication failed', { clientId: client.id, err });
          done(authError('authentication unavailable', 3), false);
        },
      );
    },
    authorizePublish(client, packet, done) {
      const check = policy.authorizePublish(client ? client.id : null, usernameOf(client), packet.topic, Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload));
      if (check.ok) return done(null);
      log.warn('mqtt publish refused', { clientId: client?.id, topic: packet.topic, reason: check.reason });
      done(new Error(check.reason));
    },
    authorizeSubscribe(client, sub, done) {
      const check = policy.authorizeSubscribe(usernameOf(client), sub.topic);
      if (check.ok) return done(null, sub);
      log.warn('mqtt subscribe refused', { clientId: client.id, topic: sub.topic, reason: check.reason });
      // A null subscription is answered with return code 0x80 (failure) and the client stays connected.
      done(null, null);
    },
  });
  // Presence follows the broker's own connection state, will or no will.
  broker.on('publish', (packet, client) => {
    if (client) presence.published(client, packet.topic, Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload));
  });
  broker.on('clientDisconnect', (client) => {
    const offline = presence.disconnected(client, Date.now());
    if (!offline) return;
    log.debug('device connection ended while online: publishing its offline status', { clientId: client.id });
    broker.publish({ cmd: 'publish', topic: offline.topic, payload: offline.payload, qos: 1, retain: true, dup: false }, () => undefined);
  });
  broker.on('clientError', (client, err) => log.debug('mqtt client error', { clientId: client.id, err: err.message }));
  broker.on('connectionError', (client, err) => log.debug('mqtt connection error', { clientId: client.id, err: err.message }));

  // TCP_NODELAY: without it every request/response hop waits ~40 ms for Nagle.
  const server: Server = createServer({ noDelay: true }, (socket) => broker.handle(socket));
  const port = await listen(server, opts.port, opts.host);
  let tlsServer: TlsServer | undefined;
  let tlsPort: number | undefined;
  if (opts.tls) {
    const secure = createTlsServer({ ...opts.tls.context, noDelay: true }, (socket) => broker.handle(socket));
    secure.on('tlsClientError', (err) => log.debug('mqtts handshake failed', { err: err.message }));
    tlsServer = secure;
    try {
      tlsPort = await listen(secure, opts.tls.port, opts.tls.host);
    } catch (err) {
      server.close();
      throw err;
    }
  }

  return {
    port,
    tlsPort,
    streamLink: new InProcessLink(broker, log.child({ part: 'stream-link' })),
    setSecureContext: (options) => tlsServer?.setSecureContext(options),
    handleStream: (stream, req) => {
      broker.handle(stream, req);
    },
    connectedCount: () => broker.connectedClients,
    async disconnect(clientId) {
      const client = isLive(broker, clientId);
      if (client) await new Promise<void>((resolve) => client.close(() => resolve()));
    },
    async close() {
      // Stop accepting first, then drop the clients; the server closes once they are gone.
      const serverClosed = Promise.all([new Promise<void>((resolve) => server.close(() => resolve())), tlsServer ? new Promise<void>((resolve) => tlsServer.close(() => resolve())) : undefined]);
      await new Promise<void>((resolve) => broker.close(() => resolve()));
      await serverClosed;
    },
  };
}
