import { nodeHttps } from '../node-builtins.lazy.js';
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import type { IncomingHttpHeaders } from 'node:http';
import { describeTlsError, tlsOptionsFor, tlsTarget, TlsTrustError, type TlsTrust } from './tls-trust.js';

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
    const isStream = body instanceof ReadableStream;
    if (body !== undefined && body !== null && typeof body !== 'string' && !(body instanceof Uint8Array) && !isStream) throw new TypeError('trustedFetch sends string, bytes or stream bodies only');
    let tls;
    try {
      tls = await tlsOptionsFor(trust, target);
    } catch (err) {
      const words = describeTlsError(err, url.host);
      throw new TypeError('fetch failed', { cause: words ? new TlsTrustError(words) : err });
    }
    return new Promise<Response>((resolve, reject) => {
      const req = nodeHttps().request(url, { method: init?.method ?? 'GET', headers: headersOf(init), ...tls, ...(init?.signal ? { signal: init.signal } : {}) }, (res) => {
        const status = res.statusCode ?? 502;
        const nullBody = status === 204 || status === 304 || init?.method === 'HEAD';
        if (nullBody) res.resume();
        // Streamed through, as the global fetch does: the caller bounds what it reads.
        const stream = nullBody ? null : (Readable.toWeb(res) as ReadableStream<Uint8Array>);
        resolve(new Response(stream, { status, statusText: res.statusMessage ?? '', headers: headerPairs(res.headers) }));
      });
      req.on('error', (err) => {
        if (err.name === 'AbortError' || err.name === 'TimeoutError') return reject(init?.signal?.reason ?? err);
        const words = describeTlsError(err, url.host);
        reject(new TypeError('fetch failed', { cause: words ? new TlsTrustError(words) : err }));
      });
      if (isStream) Readable.fromWeb(body as WebReadableStream<Uint8Array>).on('error', (err) => req.destroy(err)).pipe(req);
      else req.end(body ?? undefined);
    });
  };
}
