import { createServer, type Server } from 'node:net';
import type { Duplex } from 'node:stream';
import type { IncomingMessage } from 'node:http';
import { Aedes, type AuthenticateError, type Client } from 'aedes';
import { createRequire } from 'node:module';
import type { AedesMemoryPersistence } from 'aedes-persistence';
import type { Logger } from '@edgehook/shared';
import type { BrokerPolicy } from './broker-policy.js';
import { skipImpossibleRetainedScans } from './retained-filter.js';

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
  /** Serves MQTT over a websocket stream (the `/mqtt` path of the HTTP server). */
  handleStream(stream: Duplex, req: IncomingMessage): void;
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
  return client instanceof Object && 'id' in client ? (client as Client) : undefined;
}

export async function startEmbeddedBroker(opts: { host: string; port: number; policy: (isConnected: (id: string) => boolean) => BrokerPolicy; log: Logger }): Promise<EmbeddedBroker> {
  const { log } = opts;
  let broker!: Aedes;
  const policy = opts.policy((id) => {
    const c = isLive(broker, id);
    return c !== undefined && !c.closed;
  });

  broker = await Aedes.createBroker({
    connectTimeout: 10_000,
    persistence: skipImpossibleRetainedScans(memoryPersistence()),
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
  broker.on('clientError', (client, err) => log.debug('mqtt client error', { clientId: client.id, err: err.message }));
  broker.on('connectionError', (client, err) => log.debug('mqtt connection error', { clientId: client.id, err: err.message }));

  // TCP_NODELAY: without it every request/response hop waits ~40 ms for Nagle.
  const server: Server = createServer({ noDelay: true }, (socket) => broker.handle(socket));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    // A fleet reconnecting at once overflows Node's default queue of 511 (tens of thousands of
    // kernel drops per restart at 5,000 devices, measured), so clients time out and retry later.
    server.listen({ port: opts.port, host: opts.host, backlog: 4096 }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : opts.port;

  return {
    port,
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
      const serverClosed = new Promise<void>((resolve) => server.close(() => resolve()));
      await new Promise<void>((resolve) => broker.close(() => resolve()));
      await serverClosed;
    },
  };
}
