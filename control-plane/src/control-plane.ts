import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { createAdaptorServer } from '@hono/node-server';
import { createWebSocketStream } from 'ws';
import { createLogger, systemClock, type Clock, type Logger } from '@edgehook/shared';
import { connectMqtt, type MqttTransport } from '@edgehook/shared/transport';
import type { ServeConfig } from './config.js';
import { buildApp } from './app.js';
import { migrateToLatest, openDatabase } from './db/dialect.js';
import { secretMatches } from './db/ids.js';
import { createAuthenticator } from './auth/authenticator.js';
import { pruneExpired } from './auth/sessions.repository.js';
import { bootstrapUsers } from './users/bootstrap.js';
import { createBrokerPolicy } from './broker/broker-policy.js';
import { startEmbeddedBroker } from './broker/embedded-broker.js';
import { FleetEvents } from './events/fleet-events.js';
import { serveEventsSocket } from './events/events.socket.js';
import { attachUpgradeRouter } from './http/upgrade-router.js';
import { RpcClient } from './devices/rpc.client.js';
import { startPresence } from './devices/presence.handler.js';
import { findSecretHash, markAllOffline } from './devices/devices.repository.js';
import { startDemoAgent } from './devices/demo-agent.js';
import { startTelemetry } from './telemetry/telemetry.service.js';
import { serveTelemetryLive } from './telemetry/live.socket.js';
import { HardwareEvents } from './hardware/hardware-events.js';
import { serveKvmSocket } from './kvm/kvm.socket.js';
import { kvmStreamFlag, rewriteKvmUpgrade, withKvmHosts } from './kvm/kvm-host.js';
import { serveSerialSocket } from './hardware/serial.socket.js';
import { StreamRelay } from './relay/stream-relay.js';
import { serveShellSocket } from './shell/shell.socket.js';
import { servePowSocket } from './processes/pow.socket.js';
import { serveExecSocket } from './processes/exec.socket.js';
import { serveConsoleSocket } from './containers/console.socket.js';
import { reconcileOnConnect } from './containers/servers.routes.js';

export const VERSION = '0.1.0';
const CP_MQTT_USER = 'edgehook-control-plane';

export interface RunningControlPlane {
  url: string;
  port: number;
  mqttPort: number;
  instanceId: string;
  generatedAdminPassword: string | undefined;
  close(): Promise<void>;
}

function waitConnected(transport: MqttTransport, timeoutMs: number): Promise<void> {
  if (transport.connected) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the control plane could not connect to its broker')), timeoutMs);
    const off = transport.onState((s) => {
      if (s.state !== 'connected') return;
      clearTimeout(timer);
      off();
      resolve();
    });
  });
}

/** The composition root's work, callable from main.ts and from end-to-end tests. */
export async function startControlPlane(config: ServeConfig, overrides: { clock?: Clock; log?: Logger } = {}): Promise<RunningControlPlane> {
  const clock = overrides.clock ?? systemClock;
  const log = overrides.log ?? createLogger({ level: config.logLevel, format: config.logFormat, base: { app: 'control-plane' } });
  const instanceId = `cp-${randomBytes(6).toString('hex')}`;

  const db = await openDatabase(config.store);
  await migrateToLatest(db);
  const boot = await bootstrapUsers({ db, log, now: clock.now() }, config.adminPassword);

  const cpCredentials = { username: CP_MQTT_USER, password: randomBytes(24).toString('base64url') };
  const broker = await startEmbeddedBroker({
    host: config.mqttHost,
    port: config.mqttPort,
    log: log.child({ part: 'broker' }),
    policy: (isConnected) =>
      createBrokerPolicy({
        controlPlane: cpCredentials,
        isConnected,
        log,
        async verifyDevice(deviceId, secret) {
          const hash = await findSecretHash(db, deviceId);
          return hash !== undefined && secretMatches(secret, hash);
        },
      }),
  });
  // Every device was disconnected while we were down; they say "online" again as they reconnect.
  await markAllOffline(db, clock.now());

  const mqttHostForSelf = config.mqttHost === '0.0.0.0' || config.mqttHost === '::' ? '127.0.0.1' : config.mqttHost;
  const transport = await connectMqtt({
    url: `mqtt://${mqttHostForSelf.includes(':') ? `[${mqttHostForSelf}]` : mqttHostForSelf}:${broker.port}`,
    clientId: `edgehook-${instanceId}`,
    ...cpCredentials,
    keepalive: 30,
    backoff: { baseMs: 200, maxMs: 5000 },
    log: log.child({ part: 'bus' }),
  });
  await waitConnected(transport, 10_000);

  const events = new FleetEvents(transport, log);
  await events.start();
  const rpc = new RpcClient({ transport, instanceId, clock, log, defaultTimeoutMs: 10_000 });
  await rpc.start();
  await startPresence({ db, transport, events, clock, log: log.child({ part: 'presence' }) });
  const hwEvents = new HardwareEvents(transport, log.child({ part: 'hardware' }));
  await hwEvents.start();
  const relay = new StreamRelay({ transport, instanceId, events, log: log.child({ part: 'relay' }) });
  await relay.start();
  const telemetry = await startTelemetry({ db, transport, clock, log }, { retention: config.telemetryRetention, sqlitePath: config.store.kind === 'sqlite' ? config.store.path : undefined });

  const auth = createAuthenticator({ db, clock });
  reconcileOnConnect({ db, rpc, clock, log: log.child({ part: 'servers' }), events });
  const app = buildApp({
    db,
    clock,
    log,
    auth,
    rpc,
    broker,
    transport,
    events,
    telemetry,
    relay,
    config: {
      tokens: { accessTtlMs: config.accessTtlMs, refreshTtlMs: config.refreshTtlMs },
      secureCookies: config.secureCookies,
      mqtt: { port: broker.port, publicUrl: config.mqttPublicUrl },
      version: VERSION,
      webDir: config.webDir,
    },
  });

  const server = createAdaptorServer({ fetch: withKvmHosts(config.kvmDomain, app.fetch) }) as Server;
  // Before the upgrade router: `wss://<device>.<kvm-domain>/api/ws` is that device's event socket.
  if (config.kvmDomain) server.prependListener('upgrade', (req) => rewriteKvmUpgrade(config.kvmDomain, req));
  server.on('connection', (socket) => socket.setNoDelay(true));
  const wss = attachUpgradeRouter(server, { auth, log }, [
    {
      path: /^\/mqtt$/,
      kind: 'raw',
      onRaw: (ws, req) => broker.handleStream(createWebSocketStream(ws), req),
    },
    {
      path: /^\/api\/events$/,
      kind: 'user',
      permission: 'devices.read',
      onUser: (ws, principal) => serveEventsSocket({ db, events, log }, ws, principal),
    },
    {
      path: /^\/api\/telemetry\/live$/,
      kind: 'user',
      permission: 'telemetry.read',
      onUser: (ws, principal, _params, req) => serveTelemetryLive({ db, telemetry, log }, ws, principal, req),
    },
    {
      // PiKVM's event socket (kvmd /api/ws) per device; stream=0 and other query values are accepted.
      path: /^\/kvm\/([^/]+)\/api\/ws$/,
      kind: 'user',
      permission: 'devices.hardware.read',
      onUser: (ws, principal, [device = ''], req) => serveKvmSocket({ db, rpc, hwEvents, log, relay }, ws, principal, device, { stream: kvmStreamFlag(req.url) }),
    },
    {
      // A board serial console over the stream relay (stream kind 'serial' on the agent).
      path: /^\/api\/devices\/([^/]+)\/serial$/,
      kind: 'user',
      permission: 'devices.hardware.write',
      onUser: (ws, principal, [device = '']) => serveSerialSocket({ db, relay, log }, ws, principal, device),
    },
    {
      // A container console in Wings' frame format; authenticated in-band with a console token.
      path: /^\/api\/devices\/([^/]+)\/containers\/([^/]+)\/ws$/,
      kind: 'raw',
      onRaw: (ws, _req, [device = '', container = '']) => serveConsoleSocket({ db, rpc, relay, clock, log }, ws, decodeURIComponent(device), decodeURIComponent(container)),
    },
    {
      path: /^\/api\/devices\/([^/]+)\/shell$/,
      kind: 'user',
      permission: 'devices.shell',
      onUser: (ws, principal, [device = '']) => serveShellSocket({ db, relay, log }, ws, principal, decodeURIComponent(device)),
    },
    {
      path: /^\/api\/devices\/([^/]+)\/pow$/,
      kind: 'user',
      permission: 'devices.exec',
      protocols: ['pow-1'],
      onUser: (ws, principal, [device = '']) => servePowSocket({ db, relay, log }, ws, principal, decodeURIComponent(device)),
    },
    {
      path: /^\/api\/devices\/([^/]+)\/exec$/,
      kind: 'user',
      permission: 'devices.exec',
      onUser: (ws, principal, [device = '']) => serveExecSocket({ db, relay, log }, ws, principal, decodeURIComponent(device)),
    },
  ]);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const displayHost = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
  const url = `http://${displayHost.includes(':') ? `[${displayHost}]` : displayHost}:${port}`;
  log.info('control plane listening', { url, mqttPort: broker.port, instanceId, store: config.store.kind });

  const prune = setInterval(() => {
    pruneExpired(db, clock.now()).catch((err: unknown) => log.warn('token pruning failed', { err }));
  }, 3600_000);
  prune.unref();

  const demo = config.demo ? await startDemoAgent({ db, log, now: clock.now() }, { serverUrl: url, dataDir: config.dataDir }) : undefined;

  let closing: Promise<void> | undefined;
  return {
    url,
    port,
    mqttPort: broker.port,
    instanceId,
    generatedAdminPassword: boot.generatedPassword,
    close() {
      closing ??= (async () => {
        clearInterval(prune);
        await demo?.stop();
        rpc.cancelAll('the control plane is shutting down');
        relay.closeAll('the control plane is shutting down');
        for (const ws of wss.clients) ws.close(1001, 'server shutting down');
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        });
        await telemetry.close();
        await transport.close();
        await broker.close();
        await db.destroy();
      })();
      return closing;
    },
  };
}
