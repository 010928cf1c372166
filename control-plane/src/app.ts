import { Hono } from 'hono';
import type { Kysely } from 'kysely';
import type { Clock, HealthStatus, Logger } from '@edgehook/shared';
import type { Transport } from '@edgehook/shared/transport';
import type { Database } from './db/database.js';
import type { AppEnv } from './http/context.js';
import { errorHandler, notFound } from './http/errors.js';
import { bodyLimits } from './http/body-limit.js';
import { securityHeaders } from './http/security.js';
import { csrfGuard } from './auth/csrf.middleware.js';
import { proxyRoutes } from './forward/proxy.routes.js';
import type { Authenticator } from './auth/authenticator.js';
import { requireAuth } from './auth/auth.middleware.js';
import { authRoutes } from './auth/auth.routes.js';
import type { TokenLifetimes } from './auth/sessions.repository.js';
import { usersRoutes } from './users/users.routes.js';
import { auditMiddleware, type AuditDeps } from './audit/audit.middleware.js';
import { auditRoutes } from './audit/audit.routes.js';
import { rolesRoutes } from './users/roles.routes.js';
import { devicesRoutes } from './devices/devices.routes.js';
import { enrollRoutes, enrollmentTokenRoutes } from './devices/enrollment.routes.js';
import { reprovisionRoutes } from './devices/reprovision.routes.js';
import type { RpcClient } from './devices/rpc.client.js';
import type { BrokerAdmin } from './broker/broker-admin.js';
import type { FleetEvents } from './events/fleet-events.js';
import type { TelemetryService } from './telemetry/telemetry.service.js';
import { deviceTelemetryRoutes, fleetTelemetryRoutes } from './telemetry/telemetry.routes.js';
import { prometheusRoutes } from './telemetry/prometheus.routes.js';
import { hardwareRoutes } from './hardware/hardware.routes.js';
import { kvmRoutes, makeKvmHandle } from './kvm/kvm.routes.js';
import { kvmStreamRoutes } from './kvm/kvm-stream.routes.js';
import { processesRoutes } from './processes/processes.routes.js';
import { containersRoutes } from './containers/containers.routes.js';
import { serversRoutes } from './containers/servers.routes.js';
import { filesRoutes } from './containers/files.routes.js';
import type { StreamRelay } from './streams/stream-relay.js';
import { defaultWebDir, staticRoutes } from './web/static.routes.js';
import type { RevocationSink } from './auth/revocations.js';
import type { LiveSockets } from './auth/live-sockets.js';
import type { TlsInfo } from './tls/tls.service.js';
import { defaultAgentPackageDir, installRoutes } from './devices/install.routes.js';
import { encedeusRoutes } from './encedeus/encedeus.routes.js';
import { avatarsRoutes } from './users/avatars.routes.js';
import { sshKeysRoutes } from './users/ssh-keys.routes.js';
import { docsRoutes } from './docs/docs.routes.js';
import { responseCheck } from './http/response-check.js';
import type { PerfkitHub } from './perfkit/perfkit-hub.js';
import { perfkitRoutes } from './perfkit/perfkit.routes.js';
import { CoreRoutes, RestRoutes } from '@edgehook/shared/rest';
import { routeMounter } from './http/rest-route.js';
import { agentDownloadRoutes, agentPackageRoutes, agentUpdateRoutes } from './agent-updates/agent-updates.routes.js';
import type { PackageCatalog } from './agent-updates/package-catalog.js';
import type { AgentUpdateService } from './agent-updates/agent-updates.service.js';
import type { VpnService } from './vpn/vpn.service.js';
import { deviceVpnRoutes, vpnHubRoutes } from './vpn/vpn.routes.js';
import { jobsRoutes } from './jobs/jobs.routes.js';
import type { JobService } from './jobs/jobs.service.js';

export interface AppDeps {
  db: Kysely<Database>;
  clock: Clock;
  log: Logger;
  auth: Authenticator;
  rpc: RpcClient;
  broker: BrokerAdmin;
  transport: Transport;
  events: FleetEvents;
  /** Device byte streams; file up- and downloads are mounted only when given. */
  relay?: StreamRelay;
  /** Revocations over the bus: logout, password, role and user changes close live sockets everywhere. */
  revocations: RevocationSink;
  /** Live connections of this replica (sockets, streamed responses), closed by revocations. */
  sockets: LiveSockets;
  /** Liveness beyond "the process answers": false once the store is lost. */
  health?: () => { ok: boolean; error?: string };
  /** Telemetry store and ingest; its routes are mounted only when given. */
  telemetry?: TelemetryService;
  /** Agent packages by version and agent updates (agent-updates/); mounted only when given. */
  agentUpdates?: { catalog: PackageCatalog; updates: AgentUpdateService; signingKey: string };
  /** Perfkit sessions and configs reported by devices; their routes are mounted only when given. */
  perfkit?: PerfkitHub;
  /** Jobs across devices; `/api/jobs` is mounted only when given. */
  jobs?: JobService;
  /** The audit log writer (absent: nothing recorded, e.g. focused tests). */
  audit?: AuditDeps;
  /** The WireGuard hub and device peers (vpn/); with the VPN off its routes say how to turn it on. */
  vpn: VpnService;
  config: {
    tokens: TokenLifetimes;
    secureCookies: boolean;
    /** Strict-Transport-Security on every answer (TLS is on). */
    hsts?: boolean;
    /** The URL devices and install commands use, when configured (reverse proxy). */
    publicUrl?: string | undefined;
    /** The served certificate's pins, when TLS is on (read per request: SIGHUP may change it). */
    tls?: () => TlsInfo | undefined;
    mqtt: { port: number; tlsPort?: number | undefined; publicUrl?: string | undefined; publicWsUrl?: string | undefined };
    version: string;
    /** The lean agent package and installer (agent/dist-package by default). */
    agentPackageDir?: string | undefined;
    /** Built web console (control-plane/web/dist by default). */
    webDir?: string | undefined;
    limits: { maxBodyBytes: number; maxUploadBytes: number };
    /** Device web UIs through /api/devices/:id/proxy/<port>/ (serve --device-proxy). */
    deviceProxy?: boolean | undefined;
    /** Where Encedeus's /auth, /user and /role live: '' (the root, default), '/prefix', or false (off). */
    encedeusPrefix?: string | false | undefined;
    /** Tests: every 2xx JSON answer is parsed with its route's declared result schema (http/response-check.ts). */
    checkResponses?: boolean | undefined;
  };
}

/** The whole HTTP API as a Hono app that never listens: tests drive it in memory. */
export function buildApp(deps: AppDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.onError(errorHandler(deps.log));
  app.notFound(notFound);
  if (deps.config.hsts) {
    app.use(async (c, next) => {
      await next();
      c.header('Strict-Transport-Security', 'max-age=31536000');
    });
  }

  // Headers on every answer; same-origin checks for cookie writes; bodies bounded before any route
  // reads them (uploads are capped as they stream).
  if (deps.config.checkResponses) app.use(responseCheck(RestRoutes, deps.log));
  app.use(securityHeaders());
  app.use(csrfGuard());
  app.use(bodyLimits(deps.config.limits));
  // Every operator action is recorded by the replica serving it (audit/).
  if (deps.audit) app.use('*', auditMiddleware(deps.audit));
  routeMounter(app, '', deps.db)(CoreRoutes.health, ({ c }) => {
    const health = deps.health?.() ?? { ok: true };
    // A store that refuses telemetry writes (disk full) is reported, so a balancer can route away.
    const telemetry = deps.telemetry?.ingest.healthState();
    const ok = health.ok && (telemetry?.healthy ?? true);
    const body: HealthStatus = { ok, version: deps.config.version, ...(health.error !== undefined ? { error: health.error } : {}), ...(telemetry ? { store: { telemetry } } : {}) };
    return c.json(body, body.ok ? 200 : 503);
  });
  // The API's own description (generated from shared/src/rest/) and its docs: public, as the code is.
  app.route('/', docsRoutes({ db: deps.db, version: deps.config.version }));
  app.route('/api/auth', authRoutes({ db: deps.db, clock: deps.clock, auth: deps.auth, tokens: deps.config.tokens, secureCookies: deps.config.secureCookies, revocations: deps.revocations }));
  const enrollment = { db: deps.db, clock: deps.clock, log: deps.log, auth: deps.auth, events: deps.events, broker: deps.broker, mqtt: deps.config.mqtt, publicUrl: deps.config.publicUrl, tls: deps.config.tls, packageKey: deps.agentUpdates?.signingKey };
  app.route('/api/enroll', enrollRoutes(enrollment));
  app.route('/api/enroll', reprovisionRoutes(enrollment));
  // PiKVM-compatible API per device: its own auth and {ok, result} envelopes, so outside /api.
  app.route('/kvm/:deviceId/api', kvmRoutes({ db: deps.db, clock: deps.clock, log: deps.log, auth: deps.auth, rpc: deps.rpc, tokens: deps.config.tokens, secureCookies: deps.config.secureCookies, relay: deps.relay, revocations: deps.revocations, sockets: deps.sockets }));
  // ustreamer's MJPEG stream, where PiKVM serves it (/streamer/stream), with the facade's auth.
  app.route('/kvm/:deviceId/streamer', kvmStreamRoutes({ relay: deps.relay, handle: makeKvmHandle(deps), sockets: deps.sockets }));

  // Everything below needs a user; each route then checks its own permission.
  const authed = new Hono<AppEnv>();
  authed.use(requireAuth(deps.auth));
  authed.route('/users', usersRoutes(deps));
  authed.route('/audit', auditRoutes(deps));
  authed.route('/users', avatarsRoutes(deps));
  authed.route('/users', sshKeysRoutes(deps));
  authed.route('/roles', rolesRoutes(deps));
  authed.route('/enrollment-tokens', enrollmentTokenRoutes(enrollment));
  const latestAgent = deps.agentUpdates ? async () => (await deps.agentUpdates?.catalog.latest())?.version : undefined;
  authed.route('/devices', devicesRoutes({ ...deps, ...(latestAgent ? { latestAgentVersion: latestAgent } : {}) }));
  if (deps.agentUpdates) {
    const agentDeps = { db: deps.db, ...deps.agentUpdates };
    authed.route('/agent', agentPackageRoutes(agentDeps));
    authed.route('/devices', agentUpdateRoutes(agentDeps));
    app.route('/downloads', agentDownloadRoutes(agentDeps));
  }
  authed.route('/devices', hardwareRoutes(deps));
  authed.route('/devices', processesRoutes(deps));
  authed.route('/devices', containersRoutes(deps));
  authed.route('/devices', serversRoutes(deps));
  if (deps.relay) authed.route('/devices', proxyRoutes({ db: deps.db, relay: deps.relay, sockets: deps.sockets, maxBodyBytes: deps.config.limits.maxUploadBytes, enabled: deps.config.deviceProxy ?? false }));
  if (deps.relay) authed.route('/devices', filesRoutes({ db: deps.db, rpc: deps.rpc, relay: deps.relay, maxUploadBytes: deps.config.limits.maxUploadBytes, sockets: deps.sockets }));
  if (deps.perfkit) authed.route('/devices', perfkitRoutes({ db: deps.db, clock: deps.clock, log: deps.log.child({ part: 'perfkit' }), rpc: deps.rpc, relay: deps.relay, perfkit: deps.perfkit, series: deps.telemetry?.registry }));
  if (deps.telemetry) {
    const telemetry = { db: deps.db, clock: deps.clock, rpc: deps.rpc, telemetry: deps.telemetry };
    authed.route('/devices', deviceTelemetryRoutes(telemetry));
    authed.route('/telemetry', fleetTelemetryRoutes(telemetry));
    authed.route('/export/prometheus', prometheusRoutes({ db: deps.db, clock: deps.clock, registry: deps.telemetry.registry }));
  }
  authed.route('/vpn', vpnHubRoutes({ db: deps.db, vpn: deps.vpn }));
  authed.route('/devices', deviceVpnRoutes({ db: deps.db, vpn: deps.vpn }));
  if (deps.jobs) authed.route('/jobs', jobsRoutes({ db: deps.db, jobs: deps.jobs }));
  app.route('/api', authed);
  // Encedeus's API before the console, so its paths always answer JSON.
  const encedeusPrefix = deps.config.encedeusPrefix ?? '';
  if (encedeusPrefix !== false) {
    const encedeus = { db: deps.db, clock: deps.clock, log: deps.log, auth: deps.auth, tokens: deps.config.tokens, secureCookies: deps.config.secureCookies, prefix: encedeusPrefix };
    app.route(encedeusPrefix === '' ? '/' : encedeusPrefix, encedeusRoutes(encedeus));
  }
  // The web console last: it answers only GET/HEAD paths no API route took.
  app.route('/', installRoutes({ db: deps.db, packageDir: deps.config.agentPackageDir ?? defaultAgentPackageDir(), publicUrl: deps.config.publicUrl, tls: deps.config.tls }));
  app.route('/', staticRoutes({ distDir: deps.config.webDir ?? defaultWebDir() }));
  return app;
}
