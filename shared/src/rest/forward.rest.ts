import { ProxyPortParam } from '../messages/forward.js';
import type { HttpMethod } from './route.js';
import { DeviceIdParam, RawBytes, route, SIGNED_IN } from './route.js';

const params = { id: DeviceIdParam, port: ProxyPortParam };

/**
 * The HTTP proxy to a device's web UI: `/api/devices/:id/proxy/<port>/<path>` is
 * `http://127.0.0.1:<port>/<path>` on the device, through a `tcp-forward` stream. One entry per
 * method over one wildcard path (OpenAPI leaves wildcard paths out, as it does `/docs/*`); bodies
 * stream both ways. The TCP forward itself is a websocket (`/api/devices/:id/forward`), declared
 * with the other sockets in control-plane.ts.
 */
function proxy<M extends HttpMethod>(method: M) {
  return route({
    method,
    path: '/api/devices/:id/proxy/:port/*',
    summary: `Proxy ${method} to a web server on the device`,
    tag: 'forward',
    auth: SIGNED_IN,
    permission: 'devices.forward',
    device: 'online',
    params,
    bodyKind: 'binary',
    result: RawBytes,
    resultKind: 'binary',
  });
}

export const ForwardRoutes = {
  proxyGet: proxy('GET'),
  proxyPost: proxy('POST'),
  proxyPut: proxy('PUT'),
  proxyPatch: proxy('PATCH'),
  proxyDelete: proxy('DELETE'),
} as const;

/** The prefix a device port is proxied under (what redirects and cookie paths are rewritten to). */
export function proxyPrefix(deviceRef: string, port: number): string {
  return `/api/devices/${encodeURIComponent(deviceRef)}/proxy/${port}`;
}
