import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Logger } from '@edgehook/shared';
import type { Authenticator, Principal } from './authenticator.js';
import { can } from './authenticator.js';
import type { Permission } from '@edgehook/shared';
import type { LiveSockets } from './live-sockets.js';
import { ACCESS_COOKIE, readCookie } from './credentials.js';

export interface SocketRoute {
  /** Matched against the path; groups become `params`, already %-decoded. */
  path: RegExp;
  /** Raw streams (MQTT over websocket) skip user auth: the broker authenticates them. */
  kind: 'user' | 'raw';
  permission?: Permission;
  protocols?: string[];
  /** Frame bound for this route when it differs from the operator-socket one (MQTT packets). */
  maxPayload?: number;
  /** Which path group names the device, so deleting the device closes the socket. */
  deviceParam?: number;
  /** Or which query parameter names it (`/api/telemetry/live?device=`), when given. */
  deviceQuery?: string;
  onUser?: (ws: WebSocket, principal: Principal, params: string[], req: IncomingMessage) => void;
  onRaw?: (ws: WebSocket, req: IncomingMessage, params: string[]) => void;
  /** An operator session worth an audit entry on open and close (e.g. 'shell'); `device` = the path group holding the device. */
  audit?: { action: string; device?: number };
}

/** Records audited socket sessions (audit/audit.middleware.ts). */
export interface SocketAuditor {
  opened(action: string, principal: Principal, req: IncomingMessage, deviceId: string | null): (code: number) => void;
  refused(action: string, principal: Principal | null, req: IncomingMessage, deviceId: string | null, status: number): void;
}

const STATUS: Record<number, [string, string]> = {
  400: ['Bad Request', 'BAD_REQUEST'],
  401: ['Unauthorized', 'UNAUTHENTICATED'],
  403: ['Forbidden', 'FORBIDDEN'],
  404: ['Not Found', 'NOT_FOUND'],
  429: ['Too Many Requests', 'TOO_MANY_REQUESTS'],
  500: ['Internal Server Error', 'INTERNAL'],
};

function reject(socket: Duplex, status: 400 | 401 | 403 | 404 | 429 | 500, message: string): void {
  const [text, code] = STATUS[status] ?? ['Error', 'INTERNAL'];
  const body = JSON.stringify({ error: { code, message } });
  socket.end(`HTTP/1.1 ${status} ${text}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
}

function cookieAuthenticated(req: IncomingMessage): boolean {
  if (req.headers['x-kvmd-user'] !== undefined || req.headers['x-edgehook-user'] !== undefined) return false;
  return readCookie(req.headers.cookie, ACCESS_COOKIE) !== undefined;
}

function sameOrigin(req: IncomingMessage): boolean {
  const origin = req.headers.origin;
  if (origin === undefined) return true; // not a browser: it cannot be a cross-site page
  try {
    return new URL(origin).host.toLowerCase() === (req.headers.host ?? '').toLowerCase();
  } catch {
    return false;
  }
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/**
 * Routes websocket upgrades and authenticates before the handshake completes,
 * so an unauthenticated client never gets an open socket (ws README, "Client authentication").
 */
export interface UpgradeRouterDeps {
  auth: Authenticator;
  log: Logger;
  /** Every user socket is registered here, so revocations close it. */
  sockets: LiveSockets;
  /** A device id or name to its id (undefined when unknown: the handler answers that). */
  resolveDevice: (ref: string) => Promise<string | undefined>;
  limits: { maxSocketsPerUser: number; maxPayloadBytes: number };
  audit?: SocketAuditor;
}

export interface UpgradeRouter {
  /** Every socket the router accepted and that is still open. */
  clients(): WebSocket[];
}

export function attachUpgradeRouter(server: Server, deps: UpgradeRouterDeps, routes: SocketRoute[]): UpgradeRouter {
  // One server per frame bound: a frame above it closes the socket with 1009 before it is buffered.
  const servers = new Map<number, WebSocketServer>();
  const serverFor = (route: SocketRoute): WebSocketServer => {
    const maxPayload = route.maxPayload ?? deps.limits.maxPayloadBytes;
    let wss = servers.get(maxPayload);
    if (!wss) {
      wss = new WebSocketServer({
        noServer: true,
        maxPayload,
        handleProtocols: (protocols) => {
          // MQTT clients offer "mqtt" (or the legacy "mqttv3.1"); answer with the one they asked for.
          for (const p of protocols) return p;
          return false;
        },
      });
      servers.set(maxPayload, wss);
    }
    return wss;
  };
  // A handler that throws (a malformed %-escape in a path, say) closes its socket, never the process.
  const guarded = (ws: WebSocket, run: () => void): void => {
    try {
      run();
    } catch (err) {
      deps.log.warn('websocket handler refused the connection', { err });
      ws.close(1008, err instanceof Error ? err.message.slice(0, 100) : 'refused');
    }
  };
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => undefined);
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    const route = routes.find((r) => r.path.test(path));
    if (!route) return reject(socket, 404, `no websocket at ${path}`);
    // Path parameters are decoded here, once, for every socket (a malformed %-escape stays as written: not found).
    const params = (route.path.exec(path)?.slice(1) ?? []).map(safeDecode);
    // A route that names subprotocols (pow-1) refuses clients that offer none of them.
    if (route.protocols) {
      const offered = (req.headers['sec-websocket-protocol'] ?? '').split(',').map((p) => p.trim());
      if (!route.protocols.some((p) => offered.includes(p))) return reject(socket, 400, `subprotocol ${route.protocols.join(' or ')} required`);
    }
    const wss = serverFor(route);
    if (route.kind === 'raw') {
      wss.handleUpgrade(req, socket, head, (ws) => guarded(ws, () => route.onRaw?.(ws, req, params)));
      return;
    }
    // Cross-site websocket hijacking: browsers send the cookie from any page of the same site, and
    // always send Origin on a websocket. A cookie-authenticated socket must come from our origin.
    if (cookieAuthenticated(req) && !sameOrigin(req)) return reject(socket, 403, 'cross-origin websocket refused');
    const authStartedAt = deps.sockets.now();
    deps.auth
      .authenticate(
        (name) => {
          const v = req.headers[name.toLowerCase()];
          return Array.isArray(v) ? v[0] : v;
        },
        { address: req.socket.remoteAddress ?? 'unknown' },
      )
      .then(
        async (outcome) => {
          const audit = route.audit && deps.audit ? { ...route.audit, to: deps.audit } : undefined;
          const auditDevice = audit?.device !== undefined ? (params[audit.device] ?? '') : null;
          if (outcome.kind === 'none') return reject(socket, 401, 'no credentials');
          if (outcome.kind === 'invalid') {
            audit?.to.refused(audit.action, null, req, auditDevice, 403);
            return reject(socket, 403, 'wrong or expired credentials');
          }
          if (outcome.kind === 'refused') {
            const status = outcome.error.httpStatus === 429 ? 429 : outcome.error.httpStatus === 401 ? 401 : 400;
            audit?.to.refused(audit.action, null, req, auditDevice, status);
            return reject(socket, status, outcome.error.message);
          }
          const { principal } = outcome;
          if (route.permission && !can(principal, route.permission)) {
            audit?.to.refused(audit.action, principal, req, auditDevice, 403);
            return reject(socket, 403, `your role lacks the permission ${route.permission}`);
          }
          const ref = route.deviceParam !== undefined ? (params[route.deviceParam] ?? '') : route.deviceQuery !== undefined ? (new URL(req.url ?? '/', 'http://localhost').searchParams.get(route.deviceQuery) ?? undefined) : undefined;
          const deviceId = ref === undefined ? undefined : await deps.resolveDevice(ref);
          if (deps.sockets.countForUser(principal.userId) >= deps.limits.maxSocketsPerUser) {
            return reject(socket, 429, `you have ${deps.limits.maxSocketsPerUser} open sockets, the most one user may hold; close some first`);
          }
          wss.handleUpgrade(req, socket, head, (ws) => {
            // A revocation that arrived while we authenticated still applies (`since`).
            deps.sockets.register({ ws, principal, permission: route.permission, deviceId }, authStartedAt);
            if (audit) {
              const closed = audit.to.opened(audit.action, principal, req, deviceId ?? auditDevice);
              ws.once('close', (code) => closed(code));
            }
            guarded(ws, () => route.onUser?.(ws, principal, params, req));
          });
        },
        (err: unknown) => {
          deps.log.error('websocket authentication failed', { err });
          reject(socket, 500, 'authentication unavailable');
        },
      );
  });
  return { clients: () => [...servers.values()].flatMap((wss) => [...wss.clients]) };
}
