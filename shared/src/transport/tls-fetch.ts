import { request } from 'node:https';
import type { IncomingHttpHeaders } from 'node:http';
import { describeTlsError, tlsOptionsFor, tlsTarget, TlsTrustError, type TlsTrust } from './tls-trust.js';

const MAX_BODY = 16 * 1024 * 1024;

function headerPairs(h: IncomingHttpHeaders): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const [k, v] of Object.entries(h)) {
    if (v === undefined) continue;
    for (const one of Array.isArray(v) ? v : [v]) out.push([k, one]);
  }
  return out;
}

function headersOf(init: RequestInit | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  new Headers(init?.headers).forEach((v, k) => {
    out[k] = v;
  });
  return out;
}

/**
 * A `fetch` for https:// URLs that enforces a TlsTrust (a CA file or a pinned fingerprint),
 * which the global fetch cannot do without undici; http:// goes to the global fetch. TLS
 * failures reject with a TypeError whose cause carries the words a user can act on.
 */
export function trustedFetch(trust: TlsTrust, fallback: typeof fetch = globalThis.fetch): typeof fetch {
  return async (input, init) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    const target = tlsTarget(url.href);
    if (url.protocol !== 'https:' || !target) return fallback(input, init);
    const body = init?.body;
    if (body !== undefined && body !== null && typeof body !== 'string') throw new TypeError('trustedFetch sends string bodies only');
    let tls;
    try {
      tls = await tlsOptionsFor(trust, target);
    } catch (err) {
      const words = describeTlsError(err, url.host);
      throw new TypeError('fetch failed', { cause: words ? new TlsTrustError(words) : err });
    }
    return new Promise<Response>((resolve, reject) => {
      const req = request(url, { method: init?.method ?? 'GET', headers: headersOf(init), ...tls, ...(init?.signal ? { signal: init.signal } : {}) }, (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > MAX_BODY) res.destroy(new Error('response body too large'));
          else chunks.push(c);
        });
        res.on('end', () => {
          const status = res.statusCode ?? 502;
          const nullBody = status === 204 || status === 304;
          resolve(new Response(nullBody ? null : Buffer.concat(chunks), { status, statusText: res.statusMessage ?? '', headers: headerPairs(res.headers) }));
        });
        res.on('error', reject);
      });
      req.on('error', (err) => {
        if (err.name === 'AbortError' || err.name === 'TimeoutError') return reject(init?.signal?.reason ?? err);
        const words = describeTlsError(err, url.host);
        reject(new TypeError('fetch failed', { cause: words ? new TlsTrustError(words) : err }));
      });
      req.end(body ?? undefined);
    });
  };
}
