import { request as httpRequest, type IncomingMessage } from 'node:http';
import { Readable, Transform } from 'node:stream';
import { Hono, type Context } from 'hono';
import type { Kysely } from 'kysely';
import { getConnInfo } from '@hono/node-server/conninfo';
import { EdgehookError } from '@edgehook/shared';
import { ForwardRoutes as R } from '@edgehook/shared/rest';
import type { Database } from '../db/database.js';
import type { AppEnv } from '../http/context.js';
import { routeMounter } from '../http/rest-route.js';
import type { LiveSockets } from '../auth/live-sockets.js';
import { revocableBody } from '../auth/revocable-body.js';
import type { StreamRelay } from '../streams/stream-relay.js';
import { RelayDuplex } from './relay-duplex.js';
import { RelayAgent } from './relay-agent.js';
import { requestHeadersForDevice, responseHeadersForOperator } from './proxy-headers.js';

export interface ProxyDeps {
  db: Kysely<Database>;
  relay: StreamRelay;
  sockets: LiveSockets;
  /** Request bodies are counted as they stream and cut off past this. */
  maxBodyBytes: number;
  /** `serve --device-proxy`; off, every proxy request is refused with the reason. */
  enabled: boolean;
}

/** Why the proxy is off by default, said wherever it refuses. */
export const PROXY_OFF =
  "the device web UI proxy is off: a device's pages would run in the console's origin, with the signed-in operator's rights; start serve with --device-proxy true only for device web UIs you trust (docs/forward.md)";

/** `/api/devices/<ref>/proxy/<port>` and the rest of the path (undefined without even a `/`). */
export const PROXY_PATH = /^(\/api\/devices\/[^/]+\/proxy\/\d+)(\/.*)?$/;
/** Device web servers get this long to start answering. */
const RESPONSE_WAIT_MS = 60_000;
/** The device page's own policy applies; without one it may not be framed by other sites. */
const PROXY_CSP = "frame-ancestors 'self'";

function clientAddress(c: Context<AppEnv>): string | undefined {
  try {
    return getConnInfo(c).remote.address;
  } catch {
    return undefined; // in-memory requests (tests) have no socket
  }
}

function bounded(max: number): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      seen += chunk.length;
      if (seen > max) return cb(new EdgehookError('PAYLOAD_TOO_LARGE', `the request body is larger than ${max} bytes, the most the proxy forwards`, { maxBytes: max }));
      cb(null, chunk);
    },
  });
}

/**
 * One proxied request: a fresh `tcp-forward` stream to 127.0.0.1:<port> on the device, node:http
 * speaking HTTP/1.1 over it, bodies streamed both ways under the relay's credit. The answer keeps
 * the device's status and headers, with hop-by-hop headers dropped and Location / Set-Cookie kept
 * under the prefix.
 */
async function proxy(deps: ProxyDeps, c: Context<AppEnv>, deviceId: string, port: number): Promise<Response> {
  if (!deps.enabled) throw new EdgehookError('FORBIDDEN', PROXY_OFF);
  const url = new URL(c.req.url);
  const m = PROXY_PATH.exec(url.pathname);
  if (!m) throw new EdgehookError('NOT_FOUND', `not a proxy path: ${url.pathname}`);
  const prefix = m[1] ?? '';
  // Relative links of the device's pages resolve only under a trailing slash.
  if (m[2] === undefined) return c.redirect(`${prefix}/${url.search}`, 308);
  const host = c.req.header('host');
  const headers = requestHeadersForDevice(c.req.raw.headers, { prefix, clientAddress: clientAddress(c), proto: url.protocol.replace(':', '') });
  const conn = new RelayDuplex(deps.relay, deviceId, { host: '127.0.0.1', port });
  try {
    await conn.opened;
  } catch (err) {
    conn.destroy();
    throw err;
  }
  const method = c.req.method;
  const body = method === 'GET' || method === 'HEAD' ? null : c.req.raw.body;
  const res = await new Promise<IncomingMessage>((resolve, reject) => {
    const req = httpRequest({ method, path: (m[2] ?? '/') + url.search, headers, agent: new RelayAgent(conn), timeout: RESPONSE_WAIT_MS });
    req.once('response', resolve);
    req.once('timeout', () => req.destroy(new EdgehookError('DEVICE_TIMEOUT', `the web server on port ${port} did not answer within ${RESPONSE_WAIT_MS / 1000} s`)));
    req.once('error', (err) => reject(err instanceof EdgehookError ? err : new EdgehookError('DESTINATION_UNREACHABLE', `the web server on port ${port} failed: ${err.message}`)));
    if (!body) return void req.end();
    const upload = Readable.fromWeb(body).pipe(bounded(deps.maxBodyBytes));
    upload.once('error', (err) => req.destroy(err));
    upload.pipe(req);
  });
  const out = responseHeadersForOperator(res.headers, { prefix, port, host });
  if (!out.has('content-security-policy')) out.set('content-security-policy', PROXY_CSP);
  const status = res.statusCode ?? 502;
  if (method === 'HEAD' || status === 204 || status === 304) {
    res.resume();
    return new Response(null, { status, headers: out });
  }
  const principal = c.get('principal');
  const stream = revocableBody(deps.sockets, { principal, permission: 'devices.forward', deviceId }, Readable.toWeb(res));
  return new Response(stream, { status, headers: out });
}

export function proxyRoutes(deps: ProxyDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const mount = routeMounter(app, '/api/devices', deps.db);
  mount(R.proxyGet, ({ c, device, params }) => proxy(deps, c, device.id, params.port));
  mount(R.proxyPost, ({ c, device, params }) => proxy(deps, c, device.id, params.port));
  mount(R.proxyPut, ({ c, device, params }) => proxy(deps, c, device.id, params.port));
  mount(R.proxyPatch, ({ c, device, params }) => proxy(deps, c, device.id, params.port));
  mount(R.proxyDelete, ({ c, device, params }) => proxy(deps, c, device.id, params.port));
  return app;
}
