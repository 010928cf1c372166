import type { MiddlewareHandler } from 'hono';
import { EdgehookError } from '@edgehook/shared';
import type { AppEnv } from '../http/context.js';
import { ACCESS_COOKIE, REFRESH_COOKIE, readCookie } from './credentials.js';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

function originOf(value: string | undefined): string | undefined {
  if (!value) return undefined;
  try {
    return new URL(value).host.toLowerCase() || '(opaque)';
  } catch {
    // `Origin: null` (sandboxed frames, data: pages) and junk are never our origin.
    return '(opaque)';
  }
}

/**
 * CSRF defence for cookie sessions. SameSite=Strict keeps cross-site pages out, but not a page on
 * the same site (another port of the same host): so an unsafe method that authenticates with our
 * cookie and names an origin (Origin, else Referer) must name ours (equal to Host). Header-borne
 * credentials (Bearer, Basic, X-KVMD-*) cannot be sent cross-origin without a CORS preflight we
 * never grant, so they pass. A login from a foreign Origin is refused too (login CSRF).
 */
export function csrfGuard(): MiddlewareHandler<AppEnv> {
  return async function csrfGuardHandler(c, next) {
    if (SAFE_METHODS.has(c.req.method)) return next();
    const host = (c.req.header('host') ?? '').toLowerCase();
    const origin = originOf(c.req.header('origin'));
    const referer = originOf(c.req.header('referer'));
    const from = origin ?? referer;
    const cookies = c.req.header('cookie');
    const viaHeaders = c.req.header('x-kvmd-user') !== undefined || c.req.header('x-edgehook-user') !== undefined;
    const cookieAuth = !viaHeaders && (readCookie(cookies, ACCESS_COOKIE) !== undefined || readCookie(cookies, REFRESH_COOKIE) !== undefined);
    if (cookieAuth) {
      // Browsers send Origin on every cross-origin write (and Referer on the rest); a request with
      // neither is a non-browser client replaying a cookie (curl -b, as kvmd's docs show), not CSRF.
      if (from !== undefined && from !== host) throw new EdgehookError('FORBIDDEN', `cross-origin request refused: ${from} is not ${host}`);
    } else if (origin !== undefined && origin !== host && /\/auth\/login$/.test(c.req.path)) {
      throw new EdgehookError('FORBIDDEN', `cross-origin login refused: ${origin} is not ${host}`);
    }
    return next();
  };
}
