import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { WebSocket } from 'ws';
import { EdgehookError, validate, WsiPasswordAuth, WsiReply, WsiRequest, WsiVpnConfRequest, type WsiReason } from '@edgehook/shared';
import { can, toPrincipal, type Principal } from '../auth/authenticator.js';
import { findUserById } from '../auth/users.repository.js';
import { revokeSocket } from '../auth/live-sockets.js';
import { auditSocket, writeAudit } from '../audit/audit.middleware.js';
import { markOffline, markOnline, toDeviceView } from '../devices/devices.repository.js';
import { keepAlive } from '../http/socket-keep-alive.js';
import { hashSecret } from '../db/ids.js';
import { WsiConnection } from './wsi-connection.js';
import { findToken, insertBackendDevice, issueToken } from './wsi-tokens.repository.js';
import { ALL_STAT_TYPES } from './wsi-telemetry.js';
import type { WsiGatewayDeps } from './wsi.gateway.js';

/** Close codes: a newer socket took the token over; the backend never authenticated. */
export const WsiClose = { replaced: 4009, noAuth: 1008 } as const;

/** Backend requests waiting on one socket (each password sign-in costs a password hash). */
const MAX_QUEUED = 16;

type Msg = Record<string, unknown>;
const fail = (reason: WsiReason, message: string): Msg => ({ success: false, reason, message });
/** The result-style verbs (`get_vpn_conf`) fail as `{result: 'failure', reason}`. */
const failResult = (reason: WsiReason, message: string): Msg => ({ result: 'failure', reason, message });

interface Bound {
  conn: WsiConnection;
  tokenId: string;
  tokenHash: string;
  principal: Principal;
}

/**
 * One backend socket on `/wsi`. It authenticates in-band (the seed's `authenticate`), then stays
 * the device's link: our requests go out with a rid, its replies come back with it. Registered
 * with LiveSockets once bound, so deleting the device or the account, or taking
 * `devices.backend` from its role, closes it.
 */
export function serveWsiSocket(deps: WsiGatewayDeps, ws: WebSocket, req: IncomingMessage): void {
  const { db, clock, log, transport, options } = deps;
  const address = req.socket.remoteAddress ?? 'unknown';
  let bound: Bound | undefined;
  let poll: NodeJS.Timeout | undefined;
  let auditClosed: ((code: number) => void) | undefined;
  // Requests from the backend are handled in order (a bounded queue); replies to ours are matched at once.
  let chain = Promise.resolve();
  let queued = 0;
  keepAlive(ws);
  const authTimer = setTimeout(() => {
    if (!bound) ws.close(WsiClose.noAuth, `authenticate within ${Math.round(options.authTimeoutMs / 1000)} s`);
  }, options.authTimeoutMs);

  const answer = (rid: number | null, msg: unknown): void => {
    // A backend that does not read its socket gets no more answers; keep-alive ends it.
    if (ws.readyState === ws.OPEN && ws.bufferedAmount <= options.maxBufferedBytes) ws.send(JSON.stringify({ rid, msg }));
  };

  const bind = async (principal: Principal, deviceId: string, tokenId: string, tokenHash: string, since: number): Promise<void> => {
    clearTimeout(authTimer);
    const conn = new WsiConnection(ws, deviceId, randomBytes(8).toString('hex'));
    bound = { conn, tokenId, tokenHash, principal };
    const old = transport.attach(conn);
    if (old && old.ws !== ws) {
      old.close('replaced by a newer socket with the same token');
      revokeSocket(old.ws, WsiClose.replaced, 'another socket authenticated with the same token');
    }
    deps.sockets.register({ ws, principal, permission: 'devices.backend', deviceId }, since);
    auditClosed = auditSocket(deps.audit, 'wsi', principal, req, deviceId);
    const now = clock.now();
    if (await markOnline(db, deviceId, conn.session, now)) void deps.events.announce({ type: 'device.online', deviceId, ts: now });
    const sample = (): void => {
      transport.send(deviceId, 'telemetry', { stat_types: ALL_STAT_TYPES }, options.requestTimeoutMs).catch((err: unknown) => log.debug('wsi telemetry poll failed', { deviceId, err }));
    };
    if (options.telemetryEveryMs > 0) {
      sample();
      poll = setInterval(sample, options.telemetryEveryMs);
      poll.unref();
    }
  };

  const refusedLogin = (username: string, why: string): void => {
    writeAudit(deps.audit, { actorId: null, actor: username, source: address, action: 'wsi.auth.failed', deviceId: null, target: null, result: 'denied', status: 403, detail: why });
  };

  const passwordAuth = async (msg: unknown): Promise<Msg> => {
    if (bound) return fail('bad_request', 'this socket is already authenticated; a new backend signs in on a new socket');
    const creds = validate(WsiPasswordAuth, msg ?? {});
    if (!creds.ok) return fail('bad_request', `authenticate needs {username, password} or a token in auth: ${creds.error}`);
    const since = deps.sockets.now();
    let principal: Principal;
    try {
      principal = toPrincipal(await deps.auth.login({ login: creds.value.username, password: creds.value.password, address }), null);
    } catch (err) {
      if (!(err instanceof EdgehookError)) throw err;
      refusedLogin(creds.value.username, err.code);
      if (err.code === 'TOO_MANY_REQUESTS') return fail('too_many_attempts', err.message);
      if (err.code === 'TOTP_REQUIRED') return fail('password_invalid', 'this account needs a second factor: WSI backends sign in with an account whose role does not require TOTP');
      return fail('password_invalid', 'wrong username or password');
    }
    if (!can(principal, 'devices.backend')) {
      refusedLogin(creds.value.username, 'devices.backend missing');
      return fail('not_permitted', `the account ${principal.username} lacks the permission devices.backend`);
    }
    const now = clock.now();
    const row = await insertBackendDevice(db, { username: principal.username, now });
    deps.kinds.remember(row.id, 'wsi');
    const { token, tokenId } = await issueToken(db, { deviceId: row.id, userId: principal.userId, now, ttlMs: options.tokenTtlMs });
    void deps.events.announce({ type: 'device.registered', deviceId: row.id, ts: now, device: toDeviceView(row) });
    writeAudit(deps.audit, { actorId: principal.userId, actor: principal.username, source: address, action: 'wsi.register', deviceId: row.id, target: row.name, result: 'ok', status: 201, detail: null });
    log.info('wsi backend registered', { deviceId: row.id, name: row.name, by: principal.username });
    bindAfterAnswer = () => bind(principal, row.id, tokenId, hashSecret(token), since);
    return { success: true, token, validity: Math.floor(options.tokenTtlMs / 1000) };
  };

  const tokenAuth = async (token: string): Promise<Msg> => {
    const since = deps.sockets.now();
    const match = await findToken(db, token);
    if (!match) return fail('token_invalid', 'unknown or revoked token');
    const now = clock.now();
    if (match.expiresAt <= now) return fail('token_invalid', 'the token expired: authenticate with the username and password again');
    const user = await findUserById(db, match.userId);
    const principal = user ? toPrincipal(user, null) : undefined;
    if (!principal || !can(principal, 'devices.backend')) return fail('token_invalid', 'the account that signed this backend in is gone or lacks devices.backend');
    const validity = Math.floor((match.expiresAt - now) / 1000);
    if (bound) {
      if (bound.conn.deviceId !== match.deviceId) return fail('bad_request', 'this socket is already authenticated as another backend');
      return { success: true, validity };
    }
    bindAfterAnswer = () => bind(principal, match.deviceId, match.tokenId, hashSecret(token), since);
    return { success: true, validity };
  };

  // Set by a successful authenticate: the socket is bound only after the answer went out, so
  // the backend has its token before our first request arrives.
  let bindAfterAnswer: (() => Promise<void>) | undefined;

  const vpnConf = async (msg: unknown): Promise<Msg> => {
    const conf = validate(WsiVpnConfRequest, msg ?? {});
    if (!conf.ok) return failResult('bad_request', `get_vpn_conf takes {conf_type: "wireguard", tun_mode: "udp"}: ${conf.error}`);
    if (!deps.vpn) return failResult('vpn_not_configured', 'vpn not configured on this control plane');
    if (!bound) return failResult('not_authenticated', 'authenticate first');
    try {
      return { result: 'success', conf_type: 'wireguard', conf_data: await deps.vpn.wireguardConfigForBackend(bound.conn.deviceId) };
    } catch (err) {
      log.warn('wsi vpn configuration failed', { deviceId: bound.conn.deviceId, err });
      return failResult('vpn_failed', err instanceof Error ? err.message : 'the VPN configuration could not be made');
    }
  };

  const request = async (r: WsiRequest): Promise<Msg> => {
    const auth = typeof r.auth === 'string' && r.auth !== '' ? r.auth : undefined;
    if (r.req === 'authenticate') return auth === undefined ? passwordAuth(r.msg) : tokenAuth(auth);
    if (!bound) return r.req === 'get_vpn_conf' ? failResult('not_authenticated', 'authenticate first') : fail('not_authenticated', 'authenticate first');
    // A token on a later request must be this socket's.
    if (auth !== undefined && hashSecret(auth) !== bound.tokenHash) return fail('token_invalid', 'this is not the token this socket authenticated with');
    if (r.req === 'get_vpn_conf') return vpnConf(r.msg);
    return fail('unknown_request', `unknown request ${r.req.slice(0, 64)}: a backend may send authenticate and get_vpn_conf`);
  };

  const frame = (text: string, isBinary: boolean): void => {
    let value: unknown;
    try {
      if (isBinary) throw new Error('binary frame');
      value = JSON.parse(text);
    } catch {
      return answer(null, fail('bad_envelope', 'every frame is one JSON object in a text frame: {auth, req, rid, msg} or {rid, msg}'));
    }
    const rid = typeof value === 'object' && value !== null && 'rid' in value && typeof value.rid === 'number' ? value.rid : null;
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return answer(rid, fail('bad_envelope', 'a frame is a JSON object'));
    if (!('req' in value)) {
      const reply = validate(WsiReply, value);
      if (!reply.ok) return answer(rid, fail('bad_envelope', `a reply is {rid, msg}: ${reply.error}`));
      if (!bound?.conn.reply(reply.value.rid, reply.value.msg)) log.debug('wsi reply to no request', { rid: reply.value.rid });
      return;
    }
    const parsed = validate(WsiRequest, value);
    if (!parsed.ok) return answer(rid, fail('bad_envelope', `a request is {auth, req, rid, msg}: ${parsed.error}`));
    if (queued >= MAX_QUEUED) return answer(parsed.value.rid, fail('bad_request', `more than ${MAX_QUEUED} requests waiting on this socket: wait for the answers`));
    queued++;
    chain = chain
      .then(async () => {
        const msg = await request(parsed.value);
        answer(parsed.value.rid, msg);
        const next = bindAfterAnswer;
        bindAfterAnswer = undefined;
        if (next && ws.readyState === ws.OPEN) await next();
      })
      .catch((err: unknown) => {
        log.error('wsi request failed', { req: parsed.value.req, err });
        answer(parsed.value.rid, fail('bad_request', 'the control server could not handle this request'));
      })
      .finally(() => queued--);
  };

  ws.on('message', (data, isBinary) => frame(Buffer.isBuffer(data) ? data.toString('utf8') : Array.isArray(data) ? Buffer.concat(data).toString('utf8') : Buffer.from(data).toString('utf8'), isBinary));
  ws.on('error', (err) => log.debug('wsi socket error', { err }));
  ws.once('close', (code) => {
    clearTimeout(authTimer);
    clearInterval(poll);
    auditClosed?.(code);
    const b = bound;
    if (!b) return;
    b.conn.close(`socket closed (${code})`);
    transport.detach(b.conn);
    void chain.then(async () => {
      const now = clock.now();
      if (await markOffline(db, b.conn.deviceId, b.conn.session, now)) void deps.events.announce({ type: 'device.offline', deviceId: b.conn.deviceId, ts: now });
    }).catch((err: unknown) => log.warn('wsi presence update failed', { err }));
  });
}
