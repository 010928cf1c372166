import { noteActor } from '../audit/audit.middleware.js';
import { randomBytes } from 'node:crypto';
import { Hono, type Context } from 'hono';
import { deleteCookie, setCookie } from 'hono/cookie';
import { streamText } from 'hono/streaming';
import type { Kysely } from 'kysely';
import {
  EdgehookError,
  InfoField,
  InfoFields,
  KvmAtxClickQuery,
  KvmAtxPowerQuery,
  KvmGpioPulseQuery,
  KvmGpioSwitchQuery,
  KvmInfoQuery,
  KvmLogQuery,
  KvmPrintQuery,
  KvmSendKeyQuery,
  LoginForm,
  validate,
  type Clock,
  type Logger,
  type Permission,
} from '@edgehook/shared';
import { KvmRoutes as K, type RouteSpec } from '@edgehook/shared/rest';
import type { Database } from '../db/database.js';
import { can, type Authenticator, type Principal } from '../auth/authenticator.js';
import { ACCESS_COOKIE } from '../auth/credentials.js';
import { createSession, revokeSession, type TokenLifetimes } from '../auth/sessions.repository.js';
import type { RpcClient } from '../devices/rpc.client.js';
import { callHardware } from '../hardware/device-hardware.js';
import { lookupDevice } from '../devices/device.middleware.js';
import type { DeviceRef } from '../http/context.js';
import { kvmFail, kvmOk, kvmQuery, toKvmError } from './kvm-envelope.js';
import type { RevocationSink } from '../auth/revocations.js';
import type { LiveSockets } from '../auth/live-sockets.js';
import { clientAddress } from '../http/client-address.js';
import { formFields } from '../http/validate.js';
import { prometheusMetrics } from './kvm-metrics.js';
import { currentInfo, CURRENT_INFO_FIELDS } from './kvm-shapes.js';
import { kvmHidRoutes } from './kvm-hid.routes.js';
import { kvmMsdRoutes } from './kvm-msd.routes.js';
import { kvmStreamerRoutes } from './kvm-streamer.routes.js';
import type { StreamRelay } from '../streams/stream-relay.js';

export interface KvmRoutesDeps {
  db: Kysely<Database>;
  clock: Clock;
  log: Logger;
  auth: Authenticator;
  rpc: RpcClient;
  tokens: TokenLifetimes;
  secureCookies: boolean;
  revocations: RevocationSink;
  /** Device byte streams: the screen and image uploads need them. */
  relay?: StreamRelay | undefined;
  /** Followed logs and image downloads end with their client's credentials. */
  sockets: LiveSockets;
}

const FOLLOW_POLL_MS = 500;

export interface Call {
  c: Context;
  principal: Principal;
  device: DeviceRef;
}

/** Auth, permission, device lookup, then `fn`; every failure in kvmd's envelope (`raw`: fn returns the Response). */
export type KvmHandle = (permission: Permission | null, fn: (call: Call) => Promise<unknown>, raw?: boolean) => (c: Context) => Promise<Response>;
export type KvmAudit = (call: Call, what: string, fields: Record<string, unknown>) => void;
/** Mounts a PiKVM entry of the REST map: its method, path and permission from the map, `fn` in kvmd's envelope. */
export type KvmMount = (spec: RouteSpec, fn: (call: Call) => Promise<unknown>, raw?: boolean) => void;

const KVM_API = '/kvm/:deviceId/api';

/** `mount` for an app at `base` (the facade's `/kvm/:deviceId/api`, or its `/streamer`). */
export function kvmMounter(app: Hono, handle: KvmHandle, base = KVM_API): KvmMount {
  return (spec, fn, raw) => {
    if (!spec.path.startsWith(base)) throw new Error(`${spec.path} is not under ${base}`);
    app.on(spec.method, [spec.path.slice(base.length)], handle(spec.permission === 'self' ? null : spec.permission, fn, raw));
  };
}

/** The facade's request wrapper (also used by the MJPEG stream route outside /api). */
export function makeKvmHandle(deps: Pick<KvmRoutesDeps, 'auth' | 'db' | 'log'>): KvmHandle {
  const { log } = deps;
  async function principalOf(c: Context): Promise<Principal> {
    const outcome = await deps.auth.authenticate((name) => c.req.header(name), { address: clientAddress(c) });
    if (outcome.kind === 'none') throw new EdgehookError('UNAUTHENTICATED', 'no credentials given');
    if (outcome.kind === 'invalid') throw new EdgehookError('INVALID_CREDENTIALS', 'wrong credentials or expired token');
    if (outcome.kind === 'refused') throw outcome.error;
    return outcome.principal;
  }

  /** Auth, permission, device lookup, then `fn`; every failure in kvmd's envelope. */
  return (permission, fn, raw = false) => {
    return async (c: Context): Promise<Response> => {
      try {
        const principal = await principalOf(c);
        noteActor(c, principal);
        if (permission && !can(principal, permission)) throw new EdgehookError('FORBIDDEN', `your role lacks the permission ${permission}`);
        const device = await lookupDevice(deps.db, c.req.param('deviceId') ?? '');
        const result = await fn({ c, principal, device });
        return raw && result instanceof Response ? result : kvmOk(c, result);
      } catch (err) {
        return kvmFail(c, toKvmError(err, log));
      }
    };
  };

}

/**
 * kvmd's HTTP API for one device, mounted at `/kvm/:deviceId/api`: the same paths, query
 * parameters (even on POST), `{ok, result}` envelopes, error classes and statuses, and the
 * same auth (X-KVMD-User/X-KVMD-Passwd, auth_token cookie, Basic). Existing PiKVM clients work
 * with the host replaced by `<control-plane>/kvm/<device>`.
 */
export function kvmRoutes(deps: KvmRoutesDeps): Hono {
  const app = new Hono();
  const { log } = deps;

  const handle = makeKvmHandle(deps);
  const mount = kvmMounter(app, handle);

  const audit: KvmAudit = (call: Call, what: string, fields: Record<string, unknown>) => log.info(what, { via: 'kvm', by: call.principal.username, device: call.device.id, ...fields });

  // --- auth ---
  // Outside `handle`: it authenticates nobody yet, only finds the device.
  app.on(K.kvmLogin.method, [K.kvmLogin.path.slice(KVM_API.length)], async (c) => {
    try {
      await lookupDevice(deps.db, c.req.param('deviceId') ?? '');
      const type = c.req.header('content-type') ?? '';
      const fields: Record<string, unknown> = type.includes('form') ? await formFields(c) : {};
      // kvmd also takes user and passwd from the query string, so this facade does (and only it).
      const form = validate(LoginForm, { user: fields['user'] ?? c.req.query('user'), passwd: fields['passwd'] ?? c.req.query('passwd') });
      if (!form.ok) throw new EdgehookError('BAD_REQUEST', `send user and passwd (${form.error})`);
      // As kvmd: with two-factor on, the 6-digit code is appended to the password.
      const user = await deps.auth.login({ login: form.value.user, password: form.value.passwd, address: clientAddress(c), codeMayBeAppended: true });
      // kvmd's tokens are 64 hex digits (secrets.token_hex(32)); some clients check the shape.
      const issued = await createSession(deps.db, user.id, deps.clock.now(), deps.tokens, () => randomBytes(32).toString('hex'));
      const maxAge = Math.round((issued.accessExpiresAt - deps.clock.now()) / 1000);
      setCookie(c, ACCESS_COOKIE, issued.accessToken, { path: '/', httpOnly: true, sameSite: 'Strict', secure: deps.secureCookies, maxAge });
      return kvmOk(c, {});
    } catch (err) {
      return kvmFail(c, toKvmError(err, log));
    }
  });
  mount(K.kvmCheck, async () => ({}));
  mount(K.kvmLogout, async ({ c, principal }) => {
      if (principal.sessionId) {
        await revokeSession(deps.db, principal.sessionId, deps.clock.now());
        await deps.revocations.announce({ type: 'session', sessionId: principal.sessionId, reason: 'logged out' });
      }
      deleteCookie(c, ACCESS_COOKIE, { path: '/' });
      return {};
    });

  // --- info and log ---
  mount(K.kvmInfo, async ({ c, device }) => {
      const q = kvmQuery(c, KvmInfoQuery);
      if (!q.legacy) {
        const asked = (q.fields ?? '').split(',').map((x) => x.trim()).filter(Boolean);
        const unknown = asked.filter((f) => !(CURRENT_INFO_FIELDS as readonly string[]).includes(f));
        if (unknown.length > 0) throw new EdgehookError('BAD_REQUEST', `The argument '${unknown[0]}' is not a valid info field (known: ${CURRENT_INFO_FIELDS.join(', ')})`, { pikvmError: 'ValidatorError' });
        return currentInfo(await callHardware(deps.rpc, device, 'info', {}), asked.length > 0 ? asked : undefined);
      }
      if (q.fields === undefined || q.fields.trim() === '') return callHardware(deps.rpc, device, 'info', {});
      const fields: (typeof InfoFields)[number][] = [];
      for (const f of q.fields.split(',').map((x) => x.trim()).filter(Boolean)) {
        const v = validate(InfoField, f);
        if (!v.ok) throw new EdgehookError('BAD_REQUEST', `unknown info field '${f}' (known: ${InfoFields.join(', ')})`, { pikvmError: 'ValidatorError' });
        fields.push(v.value);
      }
      return callHardware(deps.rpc, device, 'info', { fields });
    });
  mount(K.kvmLog,
      async ({ c, device, principal }) => {
        const q = kvmQuery(c, KvmLogQuery);
        const first = await callHardware(deps.rpc, device, 'log', q.seek > 0 ? { seekSec: q.seek } : {});
        const text = (lines: { line: string }[]) => lines.map((l) => l.line + '\n').join('');
        if (!q.follow) return c.text(text(first.lines));
        return streamText(c, async (stream) => {
          // Followed as long as the viewer's credentials hold: a revocation aborts the loop.
          const unregister = deps.sockets.registerHandle({ principal, permission: 'devices.hardware.read', deviceId: device.id, end: () => stream.abort() });
          stream.onAbort(unregister);
          let after = first.lastSeq;
          await stream.write(text(first.lines));
          while (!stream.aborted && !stream.closed) {
            await stream.sleep(FOLLOW_POLL_MS);
            try {
              const next = await callHardware(deps.rpc, device, 'log', { afterSeq: after });
              after = next.lastSeq;
              if (next.lines.length > 0) await stream.write(text(next.lines));
            } catch (err) {
              await stream.write(`-- log follow ended: ${err instanceof Error ? err.message : String(err)}\n`);
              break;
            }
          }
        });
      },
      true,);

  // --- ATX ---
  mount(K.kvmAtx, ({ device }) => callHardware(deps.rpc, device, 'atx.state', {}));
  mount(K.kvmAtxPower, async (call) => {
      const q = kvmQuery(call.c, KvmAtxPowerQuery);
      await callHardware(deps.rpc, call.device, 'atx.power', q);
      audit(call, 'atx power', { action: q.action });
      return {};
    });
  mount(K.kvmAtxClick, async (call) => {
      const q = kvmQuery(call.c, KvmAtxClickQuery);
      await callHardware(deps.rpc, call.device, 'atx.click', q);
      audit(call, 'atx click', { button: q.button });
      return {};
    });

  // --- GPIO ---
  mount(K.kvmGpio, ({ device }) => callHardware(deps.rpc, device, 'gpio.state', {}));
  mount(K.kvmGpioSwitch, async (call) => {
      const q = kvmQuery(call.c, KvmGpioSwitchQuery);
      await callHardware(deps.rpc, call.device, 'gpio.switch', q);
      audit(call, 'gpio switch', { channel: q.channel, state: q.state });
      return {};
    });
  mount(K.kvmGpioPulse, async (call) => {
      const q = kvmQuery(call.c, KvmGpioPulseQuery);
      await callHardware(deps.rpc, call.device, 'gpio.pulse', q);
      audit(call, 'gpio pulse', { channel: q.channel, delay: q.delay });
      return {};
    });

  // --- HID ---
  mount(K.kvmHid, ({ device }) => callHardware(deps.rpc, device, 'hid.state', {}));
  mount(K.kvmSendKey, async ({ c, device }) => {
      const q = kvmQuery(c, KvmSendKeyQuery);
      await callHardware(deps.rpc, device, 'hid.key', q.state === undefined ? { key: q.key } : { key: q.key, state: q.state });
      return {};
    });
  mount(K.kvmPrint, async ({ c, device }) => {
      const q = kvmQuery(c, KvmPrintQuery);
      const text = await c.req.text();
      // kvmd: `delay` seconds between keys, 0.02 when slow and not given.
      const delaySec = q.delay ?? (q.slow ? 0.02 : undefined);
      await callHardware(deps.rpc, device, 'hid.print', { text, limit: q.limit, keymap: q.keymap, slow: q.slow, ...(delaySec !== undefined ? { delaySec } : {}) });
      return {};
    });

  kvmHidRoutes({ rpc: deps.rpc, mount, audit });
  kvmStreamerRoutes({ rpc: deps.rpc, relay: deps.relay, mount, audit });
  kvmMsdRoutes({ rpc: deps.rpc, relay: deps.relay, mount, audit, sockets: deps.sockets });

  // --- Prometheus ---
  mount(K.kvmPrometheus,
      async ({ c, device }) => c.text(prometheusMetrics(await callHardware(deps.rpc, device, 'hw.snapshot', {}))),
      true,);

  app.all('*', (c) => {
    // A known path asked with another method: aiohttp (kvmd's server) answers 405 with its own
    // plain-text body and an Allow header, before any kvmd handler or auth runs.
    const path = c.req.path.replace(/^\/kvm\/[^/]+\/api/, '');
    const allowed = new Set(app.routes.filter((r) => r.method !== 'ALL' && r.path === path).map((r) => r.method));
    if (allowed.size > 0) return c.text('405: Method Not Allowed', 405, { allow: [...allowed].sort().join(',') });
    return kvmFail(c, { status: 404, error: 'NotFoundError', message: `no PiKVM API at ${c.req.method} ${c.req.path}` });
  });
  return app;
}
