import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { createServer as createHttpsServer, Server as HttpsServerClass } from 'node:https';
import { createAdaptorServer } from '@hono/node-server';
import { createWebSocketStream } from 'ws';
import { createLogger, systemClock, type Clock, type Logger } from '@edgehook/shared';
import { connectMqtt, type MqttTransport, type Transport } from '@edgehook/shared/transport';
import type { ServeConfig } from './config.js';
import { buildApp } from './app.js';
import { startSftpServer } from './sftp/sftp.server.js';
import { migrateToLatest, openDatabase } from './db/dialect.js';
import { secretMatches } from './db/ids.js';
import { securePaths, watchSqliteStore } from './db/store-watch.js';
import { createAuthenticator } from './auth/authenticator.js';
import { pruneExpired } from './auth/sessions.repository.js';
import { bootstrapUsers } from './users/bootstrap.js';
import { createBrokerPolicy } from './broker/broker-policy.js';
import { startEmbeddedBroker, type EmbeddedBroker } from './broker/embedded-broker.js';
import { ValidatedPayloads } from './broker/validated-payloads.js';
import { createEmbeddedAdmin } from './broker/embedded-admin.js';
import { connectExternalBroker } from './broker/external-broker.js';
import type { BrokerAdmin } from './broker/broker-admin.js';
import { FleetEvents } from './events/fleet-events.js';
import { serveEventsSocket } from './events/events.socket.js';
import { attachUpgradeRouter } from './auth/upgrade-router.js';
import { RpcClient } from './devices/rpc.client.js';
import { PRESENCE_SHARE, startPresence } from './devices/presence.handler.js';
import { findDeviceByRef, findSecretHash, markAllOffline } from './devices/devices.repository.js';
import { startDemoAgent } from './devices/demo-agent.js';
import { startTelemetry } from './telemetry/telemetry.service.js';
import type { IngestWriter } from './telemetry/ingest.writer.js';
import { serveTelemetryLive } from './telemetry/live.socket.js';
import { HardwareEvents } from './hardware/hardware-events.js';
import { startPullProgress } from './containers/pull-progress.handler.js';
import { PerfkitHub } from './perfkit/perfkit-hub.js';
import { serveKvmSocket } from './kvm/kvm.socket.js';
import { kvmStreamFlag, rewriteKvmUpgrade, withKvmHosts } from './kvm/kvm-host.js';
import { serveSerialSocket } from './hardware/serial.socket.js';
import { StreamRelay } from './streams/stream-relay.js';
import { serveShellSocket } from './pty/shell.socket.js';
import { servePowSocket } from './processes/pow.socket.js';
import { serveExecSocket } from './processes/exec.socket.js';
import { serveConsoleSocket } from './containers/console.socket.js';
import { serveForwardSocket } from './forward/forward.socket.js';
import { serveProxySocket } from './forward/proxy.socket.js';
import { reconcileOnConnect } from './containers/servers.routes.js';
import { JobService } from './jobs/jobs.service.js';
import type { AgentUpdater } from './jobs/job-kinds.js';
import { LiveSockets } from './auth/live-sockets.js';
import { Revocations } from './auth/revocations.js';
import { ACCOUNT_POLICY, pruneThrottle } from './auth/login-throttle.repository.js';
import { socketAuditor } from './audit/audit.middleware.js';
import { pruneAudit } from './audit/audit.repository.js';
import { AuditWriter } from './audit/audit-writer.js';
import { prepareTls, tlsInfo, type TlsInfo } from './tls/tls.service.js';
import { loadOrCreateSigningKey } from './agent-updates/signing-key.js';
import { PackageCatalog } from './agent-updates/package-catalog.js';
import { AgentUpdateService } from './agent-updates/agent-updates.service.js';
import { defaultAgentPackageDir } from './devices/install.routes.js';
import { VpnService } from './vpn/vpn.service.js';
import { loadOrCreateHubKeys } from './vpn/hub-keys.js';
import { addressPool } from './vpn/address-pool.js';
import { DeviceTransportKinds } from './devices/device-transport.js';
import { createWsiGateway, type WsiOptions, type WsiVpn } from './wsi/wsi.gateway.js';
import { WSI_NO_STREAMS } from './wsi/wsi.transport.js';
import { deleteExpiredTokens } from './wsi/wsi-tokens.repository.js';

import { VERSION } from './version.js';

export { VERSION };
const CP_MQTT_USER = 'edgehook-control-plane';

export interface RunningControlPlane {
  url: string;
  port: number;
  mqttPort: number;
  /** MQTT over TLS, when TLS is on. */
  mqttsPort: number | undefined;
  /** The served certificate, when TLS is on. */
  tls: (TlsInfo & { certFile: string; generated: boolean }) | undefined;
  /** Reads the certificate and key again (SIGHUP) for new connections; live ones stay up. */
  reloadTls(): Promise<TlsInfo | undefined>;
  instanceId: string;
  generatedAdminPassword: string | undefined;
  /** Set when the store was lost under us (the data directory deleted): /api/health answers 503. */
  readonly fatal: string | undefined;
  /** The SFTP port when `--sftp-port` is set. */
  sftpPort: number | undefined;
  /** Device identities at the broker (embedded or Mosquitto's dynamic security). */
  brokerAdmin: BrokerAdmin;
  /** Agent updates of one device (the jobs system runs them across many). */
  agentUpdates: AgentUpdateService;
  /** The WireGuard hub and device peers (off unless --vpn-endpoint); WSI's get_vpn_conf calls `vpn.wireguardConfigForBackend`. */
  vpn: VpnService;
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

export interface ControlPlaneOverrides {
  clock?: Clock;
  log?: Logger;
  /** Tests: wraps the telemetry store writer (a store whose writes fail on a switch). */
  wrapIngestWriter?: (writer: IngestWriter) => IngestWriter;
  /** The store was lost under us (data dir deleted): main.ts exits loudly. */
  onFatal?: (reason: string) => void;
  /** Tests: every 2xx JSON answer must match its route's declared result schema (http/response-check.ts). */
  checkResponses?: boolean;
  /** Answers Quix WSI backends' `get_vpn_conf` (the VPN service); without it they hear "vpn not configured". */
  vpn?: WsiVpn;
  /** Quix WSI gateway settings (tests: a short request timeout, no telemetry polling). */
  wsi?: Partial<WsiOptions>;
  /** Agent updates (another part): without it, agent-update jobs are refused. */
  agentUpdater?: AgentUpdater;
  /** Tests: how often the job loop looks at unfinished jobs, and how long a run's claim lasts unrenewed. */
  jobs?: { tickMs?: number; leaseMs?: number };
}

/** The composition root's work, callable from main.ts and from end-to-end tests. */
export async function startControlPlane(config: ServeConfig, overrides: ControlPlaneOverrides = {}): Promise<RunningControlPlane> {
  const clock = overrides.clock ?? systemClock;
  const log = overrides.log ?? createLogger({ level: config.logLevel, format: config.logFormat, base: { app: 'control-plane' } });
  const instanceId = `cp-${randomBytes(6).toString('hex')}`;

  // Certificate problems stop the start before anything listens.
  const tls = config.tls ? await prepareTls(config.tls, config, () => clock.now()) : undefined;
  // Checked before anything starts (the admin itself is created once the listeners are up).
  if (config.adminPassword !== undefined && config.adminPassword.length < 8) throw new Error('EDGEHOOK_ADMIN_PASSWORD must have at least 8 characters');
  securePaths(config.dataDir, config.store.kind === 'sqlite' ? config.store.path : undefined);
  const db = await openDatabase(config.store);
  securePaths(config.dataDir, config.store.kind === 'sqlite' ? config.store.path : undefined);
  let fatal: string | undefined;
  const storeWatch =
    config.store.kind === 'sqlite' && config.store.path !== ':memory:'
      ? watchSqliteStore(config.store.path, log, (reason) => {
          fatal = reason;
          overrides.onFatal?.(reason);
        })
      : undefined;
  await migrateToLatest(db);

  let broker: EmbeddedBroker | undefined;
  let admin: BrokerAdmin;
  let link: MqttTransport;
  let transport: Transport;
  // The stream relay's and the RPC client's link: into the embedded broker without a socket, else
  // the MQTT link. Both use never-retained, unshared topics only (in-process-link.ts).
  let streamTransport: Transport;
  // Telemetry the payload check has validated, handed to the ingest (validated-payloads.ts).
  const validated = new ValidatedPayloads();
  if (config.broker.kind === 'external') {
    // Several replicas on one Mosquitto: devices stay connected to it whatever happens to us.
    const ext = await connectExternalBroker({ ...config.broker, instanceId, db, log: log.child({ part: 'broker' }), validated });
    ({ admin, link, transport } = ext);
    streamTransport = transport;
  } else {
  const cpCredentials = { username: CP_MQTT_USER, password: randomBytes(24).toString('base64url') };
  const loopback = (h: string): boolean => h === 'localhost' || h === '::1' || h.startsWith('127.');
  // With TLS on, plain MQTT stays for the control plane itself (loopback) unless --allow-plain.
  const plainMqttHost = tls && !config.allowPlain && !loopback(config.mqttHost) ? '127.0.0.1' : config.mqttHost;
  const embeddedAdmin = createEmbeddedAdmin({
    broker: { disconnect: (id) => broker?.disconnect(id) ?? Promise.resolve(), connectedCount: () => broker?.connectedCount() ?? 0 },
    storedDeviceIds: async () => (await db.selectFrom('devices').select('id').execute()).map((r) => r.id),
  });
  admin = embeddedAdmin;
  const embedded = await startEmbeddedBroker({
    host: plainMqttHost,
    port: config.mqttPort,
    ...(tls ? { tls: { host: config.mqttHost, port: config.mqttsPort, context: { cert: tls.current().cert, key: tls.current().key } } } : {}),
    log: log.child({ part: 'broker' }),
    policy: (isConnected, silence) =>
      createBrokerPolicy({
        controlPlane: cpCredentials,
        isConnected,
        silence,
        validated,
        log,
        async verifyDevice(deviceId, secret) {
          if (embeddedAdmin.refuses(deviceId)) return false;
          const hash = await findSecretHash(db, deviceId);
          return hash !== undefined && secretMatches(secret, hash);
        },
      }),
  });
  broker = embedded;
  // Every device was disconnected while we were down; they say "online" again as they reconnect.
  await markAllOffline(db, clock.now());

  const mqttHostForSelf = plainMqttHost === '0.0.0.0' || plainMqttHost === '::' ? '127.0.0.1' : plainMqttHost;
  link = await connectMqtt({
    url: `mqtt://${mqttHostForSelf.includes(':') ? `[${mqttHostForSelf}]` : mqttHostForSelf}:${embedded.port}`,
    clientId: `edgehook-${instanceId}`,
    ...cpCredentials,
    keepalive: 30,
    backoff: { baseMs: 200, maxMs: 5000 },
    log: log.child({ part: 'bus' }),
  });
  await waitConnected(link, 10_000);
  transport = link;
  streamTransport = embedded.streamLink;
  }
  const shared = config.broker.kind === 'external' ? { instanceId } : undefined;
  const mqttPort = broker?.port ?? Number(new URL(config.broker.kind === 'external' ? config.broker.url : 'mqtt://x:1883').port || 1883);

  const events = new FleetEvents(transport, log);
  await events.start();
  // Which transport reaches each device (MQTT for agents, WSI for Quix backends): devices/device-transport.ts.
  const kinds = new DeviceTransportKinds(db);
  await kinds.load();
  // RPC requests and answers skip the control plane's own loopback MQTT connection: that was an
  // encode, a socket write and a loop turn to read it back, each way (BENCHMARKS.md, HTTP floor).
  const rpc = new RpcClient({ transport: streamTransport, instanceId, clock, log, defaultTimeoutMs: 10_000, kinds });
  await rpc.start();
  await startPresence({ db, transport, events, clock, log: log.child({ part: 'presence' }) }, shared);
  const hwEvents = new HardwareEvents(transport, log.child({ part: 'hardware' }));
  await hwEvents.start();
  await startPullProgress({ transport, events, clock, log: log.child({ part: 'containers' }) });
  const perfkit = new PerfkitHub({ db, transport, clock, log: log.child({ part: 'perfkit' }), helloShare: shared ? PRESENCE_SHARE : undefined });
  await perfkit.start();
  const relay = new StreamRelay({ transport: streamTransport, instanceId, events, log: log.child({ part: 'relay' }), streamsUnsupported: (id) => (kinds.peek(id) === 'wsi' ? WSI_NO_STREAMS : undefined) });
  await relay.start();
  // Telemetry is never retained: with the embedded broker it arrives (and its acks leave) in-process,
  // not through aedes writing to our own MQTT connection and mqtt.js parsing it again (~15% of ingest).
  const telemetry = await startTelemetry({ db, transport: streamTransport, clock, log, validated }, { retention: config.telemetryRetention, sqlitePath: config.store.kind === 'sqlite' ? config.store.path : undefined, flushMs: config.telemetryFlushMs, share: shared ? 'edgehook-telemetry' : undefined, ...(overrides.wrapIngestWriter ? { wrapWriter: overrides.wrapIngestWriter } : {}) });

  const sockets = new LiveSockets(clock);
  const revocations = new Revocations({ transport, sockets, events, log: log.child({ part: 'revocations' }) });
  await revocations.start();

  const auth = createAuthenticator({ db, clock });
  // The hub's key is read (or made) before anything listens, so a broken key file stops the start.
  const hubKeys = config.vpn ? await loadOrCreateHubKeys(config.dataDir) : undefined;
  const vpn = new VpnService({
    db,
    rpc,
    clock,
    log: log.child({ part: 'vpn' }),
    hub: config.vpn && hubKeys ? { endpoint: config.vpn.endpoint, pool: addressPool(config.vpn.subnet), publicKey: hubKeys.publicKey, privateKey: hubKeys.privateKey, keyPath: hubKeys.path } : undefined,
  });
  revocations.onApply((r) => auth.forget(r));
  reconcileOnConnect({ db, rpc, clock, log: log.child({ part: 'servers' }), events });
  const auditWriter = new AuditWriter({ db, log: log.child({ part: 'audit' }) });
  const audit = { clock, writer: auditWriter, replica: instanceId };
  // Agent packages are signed with this control plane's own key, which devices pin at enrollment.
  const signer = await loadOrCreateSigningKey(config.dataDir);
  const catalog = new PackageCatalog({ dataDir: config.dataDir, builtDir: config.agentPackageDir ?? defaultAgentPackageDir(), signer, clock });
  const agentUpdates = new AgentUpdateService({ db, rpc, catalog, signer, clock, log: log.child({ part: 'agent-updates' }), probationMs: config.agentUpdateDeadlineMs });
  // Quix WSI backends on /wsi (docs/wsi.md); calls on their devices go through its transport.
  const wsi = createWsiGateway({ db, clock, log, auth, sockets, events, audit, kinds, ingest: telemetry.ingest, vpn: overrides.vpn ?? (vpn.enabled ? vpn : undefined), options: { ...config.wsi, ...overrides.wsi } });
  rpc.useTransport(wsi.transport);
  const jobs = new JobService({ db, rpc, clock, log: log.child({ part: 'jobs' }), events, instanceId, agentUpdater: overrides.agentUpdater ?? agentUpdates, ...overrides.jobs });
  jobs.start();
  const app = buildApp({
    agentUpdates: { catalog, updates: agentUpdates, signingKey: signer.publicKey },
    audit,
    jobs,
    db,
    clock,
    log,
    auth,
    rpc,
    broker: admin,
    transport,
    events,
    telemetry,
    vpn,
    relay,
    perfkit,
    revocations,
    sockets,
    config: {
      tokens: { accessTtlMs: config.accessTtlMs, refreshTtlMs: config.refreshTtlMs },
      secureCookies: config.secureCookies,
      hsts: tls !== undefined,
      publicUrl: config.publicUrl,
      tls: () => (tls ? tlsInfo(tls.current()) : undefined),
      mqtt: { port: mqttPort, tlsPort: broker?.tlsPort, publicUrl: config.mqttPublicUrl ?? (config.broker.kind === 'external' ? config.broker.url : undefined) },
      version: VERSION,
      webDir: config.webDir,
      limits: config.limits,
      deviceProxy: config.deviceProxy,
      checkResponses: overrides.checkResponses,
      agentPackageDir: config.agentPackageDir,
      encedeusPrefix: config.encedeusPrefix,
    },
    health: () => (fatal === undefined ? { ok: true } : { ok: false, error: fatal }),
  });

  // Requests wait for the first-admin bootstrap, which runs once the listeners are up (below).
  let bootstrapped: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => (bootstrapped = resolve));
  // The env (node-server's incoming socket) passes through: client addresses come from it.
  const fetchWhenReady = async (req: Request, env?: unknown): Promise<Response> => {
    await ready;
    return app.fetch(req, env);
  };
  const serverOptions = { maxHeaderSize: config.limits.maxHeaderBytes };
  const server = (tls ? createAdaptorServer({ fetch: withKvmHosts(config.kvmDomain, fetchWhenReady), createServer: createHttpsServer, serverOptions: { ...serverOptions, cert: tls.current().cert, key: tls.current().key } }) : createAdaptorServer({ fetch: withKvmHosts(config.kvmDomain, fetchWhenReady), serverOptions })) as Server;
  // Before the upgrade router: `wss://<device>.<kvm-domain>/api/ws` is that device's event socket.
  if (config.kvmDomain) server.prependListener('upgrade', (req) => rewriteKvmUpgrade(config.kvmDomain, req));
  server.on('connection', (socket) => socket.setNoDelay(true));
  const resolveDevice = async (ref: string): Promise<string | undefined> => (await findDeviceByRef(db, ref))?.id;
  const limits = { maxSocketsPerUser: config.limits.maxSocketsPerUser, maxPayloadBytes: config.limits.maxWsFrameBytes };
  const socketAudit = socketAuditor(audit);
  const wss = attachUpgradeRouter(server, { auth, log, sockets, resolveDevice, limits, audit: socketAudit }, [
    {
      path: /^\/mqtt$/,
      kind: 'raw',
      maxPayload: 16 * 1024 * 1024,
      onRaw: (ws, req) => {
        if (broker) broker.handleStream(createWebSocketStream(ws), req);
        else ws.close(1008, 'this control plane uses an external broker: connect to it directly');
      },
    },
    {
      // A Quix WSI backend: authenticated in-band (the seed's `authenticate`), registered once bound.
      path: /^\/wsi$/,
      kind: 'raw',
      onRaw: (ws, req) => wsi.serve(ws, req),
    },
    {
      path: /^\/api\/events$/,
      kind: 'user',
      permission: 'devices.read',
      onUser: (ws, principal) => serveEventsSocket({ db, events, log }, ws, principal),
    },
    {
      path: /^\/api\/telemetry\/live$/,
      // One device's stream closes with the device (4004); a tag's stream outlives any one of them.
      deviceQuery: 'device',
      kind: 'user',
      permission: 'telemetry.read',
      onUser: (ws, principal, _params, req) => serveTelemetryLive({ db, telemetry, log }, ws, principal, req),
    },
    {
      // PiKVM's event socket (kvmd /api/ws) per device; stream=0 and other query values are accepted.
      path: /^\/kvm\/([^/]+)\/api\/ws$/,
      deviceParam: 0,
      audit: { action: 'kvm.ws', device: 0 },
      kind: 'user',
      permission: 'devices.hardware.read',
      onUser: (ws, principal, [device = ''], req) => serveKvmSocket({ db, rpc, hwEvents, log, relay }, ws, principal, device, { stream: kvmStreamFlag(req.url) }),
    },
    {
      // A board serial console over the stream relay (stream kind 'serial' on the agent).
      path: /^\/api\/devices\/([^/]+)\/serial$/,
      deviceParam: 0,
      kind: 'user',
      audit: { action: 'serial', device: 0 },
      permission: 'devices.hardware.write',
      onUser: (ws, principal, [device = '']) => serveSerialSocket({ db, relay, log }, ws, principal, device),
    },
    {
      // A container console in Wings' frame format; authenticated in-band with a console token.
      path: /^\/api\/devices\/([^/]+)\/containers\/([^/]+)\/ws$/,
      kind: 'raw',
      onRaw: (ws, req, [device = '', container = '']) => serveConsoleSocket({ db, rpc, relay, clock, log, sockets, audit: socketAudit }, ws, req, device, container),
    },
    {
      path: /^\/api\/devices\/([^/]+)\/shell$/,
      deviceParam: 0,
      kind: 'user',
      audit: { action: 'shell', device: 0 },
      permission: 'devices.shell',
      onUser: (ws, principal, [device = '']) => serveShellSocket({ db, relay, log }, ws, principal, device),
    },
    {
      path: /^\/api\/devices\/([^/]+)\/pow$/,
      deviceParam: 0,
      kind: 'user',
      audit: { action: 'pow', device: 0 },
      permission: 'devices.exec',
      protocols: ['pow-1'],
      onUser: (ws, principal, [device = '']) => servePowSocket({ db, relay, log }, ws, principal, device),
    },
    {
      // `edgehook forward`: one TCP connection on the device per socket (stream kind 'tcp-forward').
      path: /^\/api\/devices\/([^/]+)\/forward$/,
      deviceParam: 0,
      kind: 'user',
      audit: { action: 'forward', device: 0 },
      permission: 'devices.forward',
      onUser: (ws, principal, [device = ''], req) => serveForwardSocket({ db, relay, log }, ws, principal, device, req),
    },
    {
      // A websocket of a device's web UI through the HTTP proxy.
      path: /^\/api\/devices\/([^/]+)\/proxy\/(\d{1,5})(\/.*)?$/,
      deviceParam: 0,
      kind: 'user',
      audit: { action: 'forward.proxy.ws', device: 0 },
      permission: 'devices.forward',
      onUser: (ws, principal, [device = '', port = '', rest = ''], req) =>
        config.deviceProxy ? serveProxySocket({ db, relay, log }, ws, principal, { device, port: Number(port), rest }, req) : ws.close(4403, 'the device web UI proxy is off (serve --device-proxy true)'),
    },
    {
      path: /^\/api\/devices\/([^/]+)\/exec$/,
      deviceParam: 0,
      kind: 'user',
      audit: { action: 'exec', device: 0 },
      permission: 'devices.exec',
      onUser: (ws, principal, [device = '']) => serveExecSocket({ db, relay, log }, ws, principal, device),
    },
  ]);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  // The first admin is created only now that every listener is up: a start that fails earlier
  // (a port taken) leaves no user behind, so the next start generates and prints the password.
  const boot = await bootstrapUsers({ db, log, now: clock.now() }, config.adminPassword);
  bootstrapped();
  const displayHost = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
  const url = `${tls ? 'https' : 'http'}://${displayHost.includes(':') ? `[${displayHost}]` : displayHost}:${port}`;
  log.info('control plane listening', { url, mqttPort, instanceId, store: config.store.kind, broker: config.broker.kind });

  const pruneAuditLog = (): void => {
    pruneAudit(db, clock.now(), config.auditRetentionMs).catch((err: unknown) => log.warn('audit retention failed', { err }));
  };
  pruneAuditLog();
  const prune = setInterval(() => {
    pruneExpired(db, clock.now()).catch((err: unknown) => log.warn('token pruning failed', { err }));
    pruneThrottle(db, clock.now(), ACCOUNT_POLICY.windowMs).catch((err: unknown) => log.warn('login throttle pruning failed', { err }));
    pruneAuditLog();
    deleteExpiredTokens(db, clock.now()).catch((err: unknown) => log.warn('wsi token pruning failed', { err }));
  }, 3600_000);
  prune.unref();

  const sftp = config.sftp
    ? await startSftpServer({ db, auth, rpc, relay, clock, sockets, log: log.child({ part: 'sftp' }) }, { ...config.sftp, hostKeyPath: join(config.dataDir, 'sftp_host_ed25519_key') })
    : undefined;
  const demo = config.demo ? await startDemoAgent({ db, log, now: clock.now() }, { serverUrl: url, dataDir: config.dataDir, fingerprint: tls?.current().fingerprint }) : undefined;

  let closing: Promise<void> | undefined;
  return {
    url,
    port,
    mqttPort,
    mqttsPort: broker?.tlsPort,
    tls: tls ? { ...tlsInfo(tls.current()), certFile: tls.certFile, generated: tls.generated } : undefined,
    async reloadTls() {
      if (!tls) return undefined;
      const m = await tls.reload(clock.now());
      const context = { cert: m.cert, key: m.key };
      if (server instanceof HttpsServerClass) server.setSecureContext(context);
      broker?.setSecureContext(context);
      log.info('TLS certificate reloaded', { fingerprint: m.fingerprint, validTo: m.validTo });
      return tlsInfo(m);
    },
    instanceId,
    generatedAdminPassword: boot.generatedPassword,
    get fatal() {
      return fatal;
    },
    sftpPort: sftp?.port,
    brokerAdmin: admin,
    agentUpdates,
    vpn,
    close() {
      closing ??= (async () => {
        storeWatch?.stop();
        clearInterval(prune);
        await sftp?.close();
        await demo?.stop();
        await jobs.stop();
        rpc.cancelAll('the control plane is shutting down');
        relay.closeAll('the control plane is shutting down');
        for (const ws of wss.clients()) ws.close(1001, 'server shutting down');
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        });
        log.debug('closing: telemetry');
        await telemetry.close();
        log.debug('closing: bus');
        await link.close();
        await broker?.streamLink.close();
        log.debug('closing: broker');
        await broker?.close();
        log.debug('closing: store');
        // The audit rows of the last requests (and of the sockets closed above) are written first.
        await auditWriter.flush();
        await db.destroy();
      })();
      return closing;
    },
  };
}
