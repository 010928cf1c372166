import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Logger } from '@edgehook/shared';
import type { Authenticator, Principal } from '../auth/authenticator.js';
import { can } from '../auth/authenticator.js';
import type { Permission } from '@edgehook/shared';

export interface SocketRoute {
  /** Matched against the path; groups become `params`. */
  path: RegExp;
  /** Raw streams (MQTT over websocket) skip user auth: the broker authenticates them. */
  kind: 'user' | 'raw';
  permission?: Permission;
  protocols?: string[];
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
  500: ['Internal Server Error', 'INTERNAL'],
};

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

function reject(socket: Duplex, status: 400 | 401 | 403 | 404 | 500, message: string): void {
  const [text, code] = STATUS[status] ?? ['Error', 'INTERNAL'];
  const body = JSON.stringify({ error: { code, message } });
  socket.end(`HTTP/1.1 ${status} ${text}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
}

/**
 * Routes websocket upgrades and authenticates before the handshake completes,
 * so an unauthenticated client never gets an open socket (ws README, "Client authentication").
 */
export function attachUpgradeRouter(server: Server, deps: { auth: Authenticator; log: Logger; audit?: SocketAuditor }, routes: SocketRoute[]): WebSocketServer {
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: 16 * 1024 * 1024,
    handleProtocols: (protocols) => {
      // MQTT clients offer "mqtt" (or the legacy "mqttv3.1"); answer with the one they asked for.
      for (const p of protocols) return p;
      return false;
    },
  });
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
    const params = route.path.exec(path)?.slice(1) ?? [];
    // A route that names subprotocols (pow-1) refuses clients that offer none of them.
    if (route.protocols) {
      const offered = (req.headers['sec-websocket-protocol'] ?? '').split(',').map((p) => p.trim());
      if (!route.protocols.some((p) => offered.includes(p))) return reject(socket, 400, `subprotocol ${route.protocols.join(' or ')} required`);
    }
    if (route.kind === 'raw') {
      wss.handleUpgrade(req, socket, head, (ws) => guarded(ws, () => route.onRaw?.(ws, req, params)));
      return;
    }
    deps.auth
      .authenticate((name) => {
        const v = req.headers[name.toLowerCase()];
        return Array.isArray(v) ? v[0] : v;
      })
      .then(
        (outcome) => {
          const audit = route.audit && deps.audit ? { ...route.audit, to: deps.audit } : undefined;
          const deviceId = audit?.device !== undefined ? safeDecode(params[audit.device] ?? '') : null;
          if (outcome.kind === 'none') return reject(socket, 401, 'no credentials');
          if (outcome.kind === 'invalid') {
            audit?.to.refused(audit.action, null, req, deviceId, 403);
            return reject(socket, 403, 'wrong or expired credentials');
          }
          if (route.permission && !can(outcome.principal, route.permission)) {
            audit?.to.refused(audit.action, outcome.principal, req, deviceId, 403);
            return reject(socket, 403, `your role lacks the permission ${route.permission}`);
          }
          wss.handleUpgrade(req, socket, head, (ws) => {
            if (audit) {
              const closed = audit.to.opened(audit.action, outcome.principal, req, deviceId);
              ws.once('close', (code) => closed(code));
            }
            guarded(ws, () => route.onUser?.(ws, outcome.principal, params, req));
          });
        },
        (err: unknown) => {
          deps.log.error('websocket authentication failed', { err });
          reject(socket, 500, 'authentication unavailable');
        },
      );
  });
  return wss;
}
