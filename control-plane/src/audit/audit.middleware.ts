import type { IncomingMessage } from 'node:http';
import type { Context, MiddlewareHandler } from 'hono';
import { getConnInfo } from '@hono/node-server/conninfo';
import type { AuditResult, Clock } from '@edgehook/shared';
import type { Principal } from '../auth/authenticator.js';
import type { AppEnv } from '../http/context.js';
import type { SocketAuditor } from '../auth/upgrade-router.js';
import { describeRequest } from './audit-actions.js';
import type { NewAuditEntry } from './audit.repository.js';
import type { AuditWriter } from './audit-writer.js';

export interface AuditDeps {
  clock: Clock;
  /** Queues the rows off the request's path (audit-writer.ts). */
  writer: AuditWriter;
  /** This replica's instance id: each entry names the replica that served the request. */
  replica: string;
}

/** Who did it, when a route authenticates on its own (the PiKVM facade): `noteActor(c, principal)`. */
const actors = new WeakMap<Request, Principal>();
export function noteActor(c: Context, principal: Principal): void {
  actors.set(c.req.raw, principal);
}

export function resultOf(status: number): AuditResult {
  if (status < 400) return 'ok';
  return status === 401 || status === 403 || status === 429 ? 'denied' : 'error';
}

function sourceOf(c: Context): string | null {
  try {
    return getConnInfo(c).remote.address ?? null;
  } catch {
    return null; // an in-memory request (tests) has no socket
  }
}

/** The login name a login request tried (from its already-read body, JSON or form, or the query). */
async function loginName(c: Context): Promise<string | null> {
  const type = c.req.header('content-type') ?? '';
  try {
    if (type.includes('application/json')) {
      const body: unknown = await c.req.json();
      if (typeof body === 'object' && body !== null) {
        const name: unknown = Reflect.get(body, 'username') ?? Reflect.get(body, 'email');
        if (typeof name === 'string') return name.slice(0, 256);
      }
      return null;
    }
    const fields = type.includes('form') ? await c.req.parseBody() : {};
    const user = fields['user'] ?? c.req.query('user');
    return typeof user === 'string' ? user.slice(0, 256) : null;
  } catch {
    return null;
  }
}

/** Records one entry, stamped now; it reaches the store on the next turn of the event loop. */
export function writeAudit(deps: AuditDeps, entry: Omit<NewAuditEntry, 'replica'>): void {
  deps.writer.write({ ...entry, replica: deps.replica }, deps.clock.now());
}

/**
 * One middleware for every HTTP operator action: after the route ran (or threw: the error
 * handler has made the response by then), it records who, from where, what, on which device,
 * the result, and when. Reads are not recorded.
 */
export function auditMiddleware(deps: AuditDeps): MiddlewareHandler<AppEnv> {
  return async function auditHandler(c, next) {
    const described = describeRequest(c.req.method, c.req.path);
    await next();
    if (!described) return;
    const status = c.res.status;
    // Set by requireAuth on /api routes; absent (undefined) when the request was not authenticated.
    const fromContext: Principal | undefined = c.get('principal');
    const principal = actors.get(c.req.raw) ?? fromContext;
    const isLogin = described.action === 'auth.login';
    writeAudit(deps, {
      actorId: isLogin ? null : (principal?.userId ?? null),
      actor: isLogin ? await loginName(c) : (principal?.username ?? null),
      source: sourceOf(c),
      action: isLogin && status >= 400 ? 'auth.login.failed' : described.action,
      deviceId: described.deviceId,
      target: described.target,
      result: resultOf(status),
      status,
      detail: null,
    });
  };
}

/**
 * Socket sessions (shell, exec, serial ...): the open now, the close with its code later.
 * Returns the function to call on close.
 */
export function auditSocket(deps: AuditDeps, action: string, principal: Principal, req: IncomingMessage, deviceId: string | null): (code: number) => void {
  const base = { actorId: principal.userId, actor: principal.username, source: req.socket.remoteAddress ?? null, deviceId, target: null, detail: null };
  writeAudit(deps, { ...base, action: `${action}.open`, result: 'ok', status: 101 });
  let closed = false;
  return (code) => {
    if (closed) return;
    closed = true;
    writeAudit(deps, { ...base, action: `${action}.close`, result: 'ok', status: code });
  };
}

/** A socket refused before its handshake (no permission): recorded as denied. */
export function auditSocketRefused(deps: AuditDeps, action: string, principal: Principal | null, req: IncomingMessage, deviceId: string | null, status: number): void {
  writeAudit(deps, {
    actorId: principal?.userId ?? null,
    actor: principal?.username ?? null,
    source: req.socket.remoteAddress ?? null,
    action: `${action}.open`,
    deviceId,
    target: null,
    result: resultOf(status),
    status,
    detail: null,
  });
}

/** The upgrade router's view of the two socket functions above. */
export function socketAuditor(deps: AuditDeps): SocketAuditor {
  return {
    opened: (action, principal, req, deviceId) => auditSocket(deps, action, principal, req, deviceId),
    refused: (action, principal, req, deviceId, status) => auditSocketRefused(deps, action, principal, req, deviceId, status),
  };
}
