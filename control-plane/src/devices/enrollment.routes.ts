import { Hono, type Context, type MiddlewareHandler } from 'hono';
import type { Kysely } from 'kysely';
import { EdgehookError, type Clock, type Logger } from '@edgehook/shared';
import type { Database } from '../db/database.js';
import type { AppEnv } from '../http/context.js';
import { requirePermission } from '../auth/auth.middleware.js';
import type { Authenticator } from '../auth/authenticator.js';
import { bearerToken } from '../auth/credentials.js';
import { hashSecret, newId, newSecret } from '../db/ids.js';
import { routeMounter } from '../http/rest-route.js';
import { CoreRoutes as R } from '@edgehook/shared/rest';
import type { FleetEvents } from '../events/fleet-events.js';
import type { BrokerAdmin } from '../broker/broker-admin.js';
import { brokerChange } from './devices.routes.js';
import { consumeEnrollmentToken, createEnrollmentToken, listEnrollmentTokens, revokeEnrollmentToken, toEnrollmentTokenView } from './enrollment.repository.js';
import { findDevice, insertDevice, nameTaken, toDeviceView } from './devices.repository.js';
import { buildInstallCommand } from './install-command.js';
import type { TlsInfo } from '../tls/tls.service.js';

export interface EnrollmentDeps {
  db: Kysely<Database>;
  clock: Clock;
  log: Logger;
  auth: Authenticator;
  events: FleetEvents;
  broker: BrokerAdmin;
  mqtt: { port: number; tlsPort?: number | undefined; publicUrl?: string | undefined; publicWsUrl?: string | undefined };
  /** --public-url: what devices are told to use instead of the address they came through. */
  publicUrl?: string | undefined;
  tls?: (() => TlsInfo | undefined) | undefined;
  /** The agent-package signing key the device pins (agent-updates/signing-key.ts). */
  packageKey?: string | undefined;
}

/** A name from the hostname that no other device has yet. */
async function uniqueName(db: Kysely<Database>, hostname: string): Promise<string> {
  const base = hostname.replace(/[^A-Za-z0-9_.-]/g, '-').replace(/^[^A-Za-z0-9]+/, '').slice(0, 54) || 'device';
  if (!(await nameTaken(db, base))) return base;
  for (let i = 2; i < 10_000; i++) {
    const candidate = `${base}-${i}`;
    if (!(await nameTaken(db, candidate))) return candidate;
  }
  return `${base}-${newId().slice(0, 8)}`;
}

/** The control plane's origin as the caller reached it (through a proxy, X-Forwarded-*), unless configured. */
export function requestOrigin(c: Context, publicUrl: string | undefined): string {
  if (publicUrl) return publicUrl;
  const requestUrl = new URL(c.req.url);
  const host = c.req.header('x-forwarded-host') ?? c.req.header('host') ?? requestUrl.host;
  const proto = c.req.header('x-forwarded-proto') ?? requestUrl.protocol.replace(':', '');
  return `${proto === 'https' ? 'https' : 'http'}://${host}`;
}

/** The broker address as the device reached us, unless configured; MQTT over TLS when TLS is on. */
function brokerUrls(c: Context, deps: Pick<EnrollmentDeps, 'mqtt' | 'publicUrl'>): { url: string; wsUrl: string } {
  const cfg = deps.mqtt;
  const origin = new URL(requestOrigin(c, deps.publicUrl));
  const hostname = origin.hostname;
  const secure = origin.protocol === 'https:';
  const mqttUrl = cfg.tlsPort !== undefined ? `mqtts://${hostname}:${cfg.tlsPort}` : `mqtt://${hostname}:${cfg.port}`;
  return {
    url: cfg.publicUrl ?? mqttUrl,
    wsUrl: cfg.publicWsUrl ?? `${secure ? 'wss' : 'ws'}://${origin.host}${origin.pathname.replace(/\/+$/, '')}/mqtt`,
  };
}

export function enrollmentTokenRoutes(deps: EnrollmentDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  // Every answer here needs the permission, unknown paths included (as before the map).
  app.use(requirePermission('devices.enroll'));
  const mount = routeMounter(app, '/api/enrollment-tokens', deps.db);
  mount(R.enrollmentTokenCreate, async ({ c, body: input }) => {
    const { token, row } = await createEnrollmentToken(deps.db, input, c.get('principal').userId, deps.clock.now());
    return { ...toEnrollmentTokenView(row), token, install: buildInstallCommand(requestOrigin(c, deps.publicUrl), deps.tls?.()) };
  });
  mount(R.enrollmentTokenList, async () => (await listEnrollmentTokens(deps.db)).map(toEnrollmentTokenView));
  mount(R.enrollmentTokenDelete, async ({ params }) => {
    if (!(await revokeEnrollmentToken(deps.db, params.id, deps.clock.now()))) throw new EdgehookError('NOT_FOUND', 'no such active enrollment token');
    return null;
  });
  return app;
}

/** `POST /api/enroll`: a device trades an enrollment token for its own credentials, once. */
export function enrollRoutes(deps: EnrollmentDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const token = (c: Context): string => {
    const t = bearerToken(c.req.header('authorization'));
    if (!t) throw new EdgehookError('UNAUTHENTICATED', 'send the enrollment token as Authorization: Bearer <token>');
    return t;
  };
  // No token is a 401 before the body is looked at.
  const tokenFirst: MiddlewareHandler<AppEnv> = async (c, next) => {
    token(c);
    await next();
  };
  routeMounter(app, '/api/enroll', deps.db)(R.enroll, async ({ c, body: description }) => {
    const now = deps.clock.now();
    const deviceId = newId();
    const secret = newSecret('ehd');
    // One transaction: a failed insert must not burn a use of the token.
    const name = await deps.db.transaction().execute(async (trx) => {
      const used = await consumeEnrollmentToken(trx, token(c), now);
      if (!used) throw new EdgehookError('ENROLLMENT_TOKEN_INVALID');
      const deviceName = await uniqueName(trx, description.hostname);
      await insertDevice(trx, { id: deviceId, name: deviceName, secretHash: hashSecret(secret), description, tags: toEnrollmentTokenView(used).tags, enrollmentTokenId: used.id }, now);
      // Inside the transaction: a broker that refuses rolls the enrollment back (the token keeps its use).
      await brokerChange(() => deps.broker.provisionDevice(deviceId, secret));
      return deviceName;
    }).catch(async (err: unknown) => {
      // The commit itself failed after the broker took the identity: take it back (reconciliation at start catches the rest).
      if (!(err instanceof EdgehookError)) await deps.broker.removeDevice(deviceId).catch(() => undefined);
      throw err;
    });
    const row = await findDevice(deps.db, deviceId);
    if (row) await deps.events.announce({ type: 'device.registered', deviceId, ts: now, device: toDeviceView(row) });
    deps.log.info('device enrolled', { deviceId, name, hostname: description.hostname, profile: description.profile });
    return { deviceId, name, mqtt: { ...brokerUrls(c, deps), username: deviceId, password: secret }, ...(deps.packageKey ? { packageKey: deps.packageKey } : {}) };
  }, { before: [tokenFirst] });
  return app;
}
