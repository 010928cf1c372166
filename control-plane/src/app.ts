import { Hono } from 'hono';
import type { Kysely } from 'kysely';
import type { Clock, Logger } from '@edgehook/shared';
import type { Transport } from '@edgehook/shared/transport';
import type { Database } from './db/database.js';
import type { AppEnv } from './http/context.js';
import { errorHandler, notFound } from './http/errors.js';
import type { Authenticator } from './auth/authenticator.js';
import { requireAuth } from './auth/auth.middleware.js';
import { authRoutes } from './auth/auth.routes.js';
import type { TokenLifetimes } from './auth/sessions.repository.js';
import { usersRoutes } from './users/users.routes.js';
import { rolesRoutes } from './users/roles.routes.js';
import { devicesRoutes } from './devices/devices.routes.js';
import { enrollRoutes, enrollmentTokenRoutes } from './devices/enrollment.routes.js';
import type { RpcClient } from './devices/rpc.client.js';
import type { BrokerAdmin } from './broker/embedded-broker.js';
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
import type { StreamRelay } from './relay/stream-relay.js';
import { defaultWebDir, staticRoutes } from './web/static.routes.js';

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
  /** Telemetry store and ingest; its routes are mounted only when given. */
  telemetry?: TelemetryService;
  config: {
    tokens: TokenLifetimes;
    secureCookies: boolean;
    mqtt: { port: number; publicUrl?: string | undefined; publicWsUrl?: string | undefined };
    version: string;
    /** Built web console (control-plane/web/dist by default). */
    webDir?: string | undefined;
  };
}

/** The whole HTTP API as a Hono app that never listens: tests drive it in memory. */
export function buildApp(deps: AppDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.onError(errorHandler(deps.log));
  app.notFound(notFound);

  app.get('/api/health', (c) => c.json({ ok: true, version: deps.config.version }));
  app.route('/api/auth', authRoutes({ db: deps.db, clock: deps.clock, auth: deps.auth, tokens: deps.config.tokens, secureCookies: deps.config.secureCookies }));
  const enrollment = { db: deps.db, clock: deps.clock, log: deps.log, auth: deps.auth, events: deps.events, mqtt: deps.config.mqtt };
  app.route('/api/enroll', enrollRoutes(enrollment));
  // PiKVM-compatible API per device: its own auth and {ok, result} envelopes, so outside /api.
  app.route('/kvm/:deviceId/api', kvmRoutes({ db: deps.db, clock: deps.clock, log: deps.log, auth: deps.auth, rpc: deps.rpc, tokens: deps.config.tokens, secureCookies: deps.config.secureCookies, relay: deps.relay }));
  // ustreamer's MJPEG stream, where PiKVM serves it (/streamer/stream), with the facade's auth.
  app.route('/kvm/:deviceId/streamer', kvmStreamRoutes({ relay: deps.relay, handle: makeKvmHandle(deps), db: deps.db }));

  // Everything below needs a user; each route then checks its own permission.
  const authed = new Hono<AppEnv>();
  authed.use(requireAuth(deps.auth));
  authed.route('/users', usersRoutes(deps));
  authed.route('/roles', rolesRoutes(deps));
  authed.route('/enrollment-tokens', enrollmentTokenRoutes(enrollment));
  authed.route('/devices', devicesRoutes(deps));
  authed.route('/devices', hardwareRoutes(deps));
  authed.route('/devices', processesRoutes(deps));
  authed.route('/devices', containersRoutes(deps));
  authed.route('/devices', serversRoutes(deps));
  if (deps.relay) authed.route('/devices', filesRoutes({ db: deps.db, rpc: deps.rpc, relay: deps.relay }));
  if (deps.telemetry) {
    const telemetry = { db: deps.db, clock: deps.clock, rpc: deps.rpc, telemetry: deps.telemetry };
    authed.route('/devices', deviceTelemetryRoutes(telemetry));
    authed.route('/telemetry', fleetTelemetryRoutes(telemetry));
    authed.route('/export/prometheus', prometheusRoutes({ db: deps.db, clock: deps.clock, registry: deps.telemetry.registry }));
  }
  app.route('/api', authed);
  // The web console last: it answers only GET/HEAD paths no API route took.
  app.route('/', staticRoutes({ distDir: deps.config.webDir ?? defaultWebDir() }));
  return app;
}
