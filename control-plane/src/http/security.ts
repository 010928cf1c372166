import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from './context.js';

/**
 * The console's policy: only our own scripts (no inline, no eval), styles inline-allowed (xterm.js
 * and uPlot set style attributes), sockets and fetches to this origin only, never framed.
 */
export const CONSOLE_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');
/** API responses are data, never documents: nothing may load from them or frame them. */
const API_CSP = "default-src 'none'; frame-ancestors 'none'";

export function securityHeaders(): MiddlewareHandler<AppEnv> {
  return async function securityHeadersHandler(c, next) {
    await next();
    const h = c.res.headers;
    const html = (h.get('content-type') ?? '').startsWith('text/html');
    if (!h.has('content-security-policy')) h.set('content-security-policy', html ? CONSOLE_CSP : API_CSP);
    h.set('x-content-type-options', 'nosniff');
    h.set('x-frame-options', 'DENY');
    h.set('referrer-policy', 'no-referrer');
    h.set('cross-origin-opener-policy', 'same-origin');
  };
}
