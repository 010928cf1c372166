import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';
import { ACCESS_COOKIE, REFRESH_COOKIE } from '../auth/credentials.js';

/** RFC 9110 7.6.1 hop-by-hop headers, never forwarded either way (and whatever Connection names). */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'http2-settings']);
/** The operator's Edgehook credentials: a device's web server never sees them. */
const OUR_HEADERS = new Set(['authorization', 'x-kvmd-user', 'x-kvmd-passwd', 'x-kvmd-totp', 'x-edgehook-user', 'x-edgehook-password']);
const OUR_COOKIES = new Set([ACCESS_COOKIE, REFRESH_COOKIE]);

function hopByHop(connection: string | null | undefined): Set<string> {
  const extra = (connection ?? '').split(',').map((s) => s.trim().toLowerCase()).filter(Boolean);
  return new Set([...HOP_BY_HOP, ...extra]);
}

/** The Cookie header without our session cookies (undefined when nothing of the device's is left). */
export function deviceCookies(cookie: string | undefined): string | undefined {
  if (!cookie) return undefined;
  const kept = cookie
    .split(';')
    .map((c) => c.trim())
    .filter((c) => c !== '' && !OUR_COOKIES.has(c.slice(0, Math.max(0, c.indexOf('='))).trim()));
  return kept.length === 0 ? undefined : kept.join('; ');
}

/** Request headers for the device: hop-by-hop, our credentials and cookies dropped; X-Forwarded-* added. */
export function requestHeadersForDevice(headers: Headers, ctx: { prefix: string; clientAddress: string | undefined; proto: string }): OutgoingHttpHeaders {
  const drop = hopByHop(headers.get('connection'));
  const out: OutgoingHttpHeaders = {};
  headers.forEach((value, name) => {
    const n = name.toLowerCase();
    if (drop.has(n) || OUR_HEADERS.has(n) || n === 'cookie' || n.startsWith('x-forwarded-')) return;
    out[n] = value;
  });
  const cookie = deviceCookies(headers.get('cookie') ?? undefined);
  if (cookie) out['cookie'] = cookie;
  const host = headers.get('host');
  if (host) out['x-forwarded-host'] = host;
  if (ctx.clientAddress) out['x-forwarded-for'] = ctx.clientAddress;
  out['x-forwarded-proto'] = ctx.proto;
  out['x-forwarded-prefix'] = ctx.prefix;
  return out;
}

/**
 * A redirect's target kept under the prefix: a path (`/login`) becomes `<prefix>/login`; an
 * absolute URL to the device itself (127.0.0.1, localhost, its port, or our own host) likewise;
 * a relative reference (`next`) and URLs elsewhere are left as they are.
 */
export function rewriteLocation(location: string, ctx: { prefix: string; port: number; host: string | undefined }): string {
  if (location.startsWith('//')) return location;
  if (location.startsWith('/')) return ctx.prefix + location;
  let url: URL;
  try {
    url = new URL(location);
  } catch {
    return location;
  }
  const local = ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname) && (url.port === '' ? ctx.port === 80 : Number(url.port) === ctx.port);
  const ours = ctx.host !== undefined && url.host.toLowerCase() === ctx.host.toLowerCase();
  if (!local && !ours) return location;
  return ctx.prefix + url.pathname + url.search + url.hash;
}

/** A Set-Cookie kept under the prefix: its Path goes below it (default: the whole prefix), its Domain is dropped. */
export function rewriteSetCookie(cookie: string, prefix: string): string {
  const [pair = '', ...attrs] = cookie.split(';');
  let path = '/';
  const kept: string[] = [];
  for (const raw of attrs) {
    const a = raw.trim();
    const name = a.split('=')[0]?.trim().toLowerCase();
    if (name === 'path') path = a.slice(a.indexOf('=') + 1).trim() || '/';
    else if (name === 'domain') continue;
    else if (a !== '') kept.push(a);
  }
  const scoped = path.startsWith('/') ? prefix + (path === '/' ? '/' : path) : prefix + '/';
  return [pair.trim(), `Path=${scoped}`, ...kept].join('; ');
}

/** Response headers for the operator: hop-by-hop dropped, Location and Set-Cookie kept under the prefix. */
export function responseHeadersForOperator(headers: IncomingHttpHeaders, ctx: { prefix: string; port: number; host: string | undefined }): Headers {
  const drop = hopByHop(headers['connection']);
  const out = new Headers();
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || drop.has(name)) continue;
    if (name === 'set-cookie') {
      for (const c of Array.isArray(value) ? value : [value]) out.append('set-cookie', rewriteSetCookie(c, ctx.prefix));
    } else if (name === 'location' && typeof value === 'string') out.set('location', rewriteLocation(value, ctx));
    else for (const v of Array.isArray(value) ? value : [value]) out.append(name, v);
  }
  return out;
}
