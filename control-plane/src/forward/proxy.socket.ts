import type { IncomingMessage } from 'node:http';
import type { Kysely } from 'kysely';
import WebSocket from 'ws';
import { EdgehookError, type Logger } from '@edgehook/shared';
import { proxyPrefix } from '@edgehook/shared/rest';
import type { Database } from '../db/database.js';
import type { Principal } from '../auth/authenticator.js';
import { onlineDevice } from '../devices/device.middleware.js';
import { keepAlive } from '../http/socket-keep-alive.js';
import type { StreamRelay } from '../streams/stream-relay.js';
import { RelayDuplex } from './relay-duplex.js';
import { RelayAgent } from './relay-agent.js';
import { requestHeadersForDevice } from './proxy-headers.js';

/** Frames queued toward a slow side before the other side stops being read. */
const MAX_BUFFERED = 1024 * 1024;
/** Request headers ws sets itself for the device handshake. */
const HANDSHAKE = new Set(['sec-websocket-key', 'sec-websocket-version', 'sec-websocket-extensions', 'sec-websocket-protocol', 'host']);

/** Relays frames from `from` to `to`, pausing `from` while `to` has more than MAX_BUFFERED queued. */
function relayFrames(from: WebSocket, to: WebSocket): void {
  from.on('message', (data: Buffer, isBinary) => {
    if (to.readyState !== WebSocket.OPEN) return;
    to.send(data, { binary: isBinary }, () => {
      if (from.isPaused && to.bufferedAmount <= MAX_BUFFERED) from.resume();
    });
    if (to.bufferedAmount > MAX_BUFFERED) from.pause();
  });
}

/** A close code one may send (1005, 1006 and 1015 are only reported, never sent). */
function sendable(code: number): number {
  return code === 1000 || (code >= 3000 && code <= 4999) || (code >= 1001 && code <= 1014 && ![1004, 1005, 1006].includes(code)) ? code : 1000;
}

/**
 * A websocket through the HTTP proxy (`/api/devices/:id/proxy/<port>/...` upgraded): the operator's
 * socket is accepted (authenticated, registered with LiveSockets by the upgrade router), then a
 * websocket client opens the same path on the device's 127.0.0.1:<port> over a `tcp-forward`
 * stream, and frames go across both ways, each direction bounded.
 */
export function serveProxySocket(deps: { db: Kysely<Database>; relay: StreamRelay; log: Logger }, ws: WebSocket, principal: Principal, params: { device: string; port: number; rest: string }, req: IncomingMessage): void {
  const log = deps.log.child({ part: 'proxy-ws', user: principal.username, device: params.device });
  keepAlive(ws);
  ws.pause();
  ws.on('error', (err) => log.debug('proxy socket error', { err }));
  const prefix = proxyPrefix(params.device, params.port);
  const search = new URL(req.url ?? '/', 'http://localhost').search;
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) if (typeof value === 'string' && !HANDSHAKE.has(name)) headers.set(name, value);
  const forDevice = requestHeadersForDevice(headers, { prefix, clientAddress: req.socket.remoteAddress, proto: 'http' });
  const protocols = (req.headers['sec-websocket-protocol'] ?? '').split(',').map((p) => p.trim()).filter(Boolean);
  const fail = (err: unknown): void => {
    const message = err instanceof Error ? err.message : String(err);
    log.info('proxied websocket failed', { message });
    if (ws.readyState === WebSocket.OPEN) ws.close(err instanceof EdgehookError && err.code === 'FORBIDDEN' ? 4403 : 1014, message.slice(0, 120));
  };
  onlineDevice(deps.db, params.device)
    .then(async (device) => {
      const conn = new RelayDuplex(deps.relay, device.id, { host: '127.0.0.1', port: params.port });
      await conn.opened;
      if (ws.readyState !== WebSocket.OPEN) return void conn.destroy();
      const upstream = new WebSocket(`ws://127.0.0.1:${params.port}${params.rest || '/'}${search}`, protocols, { agent: new RelayAgent(conn), headers: Object.fromEntries(Object.entries(forDevice).map(([k, v]) => [k, String(v)])), perMessageDeflate: false, maxPayload: 16 * 1024 * 1024 });
      upstream.once('unexpected-response', (_r, res) => fail(new EdgehookError('DESTINATION_UNREACHABLE', `the device answered the websocket with HTTP ${res.statusCode}`)));
      upstream.once('error', fail);
      upstream.once('open', () => {
        relayFrames(ws, upstream);
        relayFrames(upstream, ws);
        ws.resume();
      });
      upstream.once('close', (code, reason) => {
        if (ws.readyState === WebSocket.OPEN) ws.close(sendable(code), reason.toString().slice(0, 120));
      });
      ws.once('close', (code, reason) => {
        if (upstream.readyState === WebSocket.OPEN) upstream.close(sendable(code), reason.toString().slice(0, 120));
        else upstream.terminate();
      });
    })
    .catch(fail);
}
