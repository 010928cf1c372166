import type { IncomingMessage } from 'node:http';

/** A DNS name like kvm.example.com (labels of letters, digits and '-'). */
export const KVM_DOMAIN = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

/**
 * Host-based PiKVM addressing: with `--kvm-domain kvm.example.com`, a request for
 * `<device>.kvm.example.com` at `/api/...` or `/streamer/...` is that device's
 * `/kvm/<device>/api/...` or `/kvm/<device>/streamer/...`, so tools that take only a host work.
 * Returns the rewritten path (with the query), or undefined when the request is not one of those.
 */
export function kvmHostPath(domain: string | undefined, host: string | undefined, pathAndQuery: string): string | undefined {
  if (!domain || !host) return undefined;
  const name = host.toLowerCase().replace(/:\d+$/, '').replace(/\.$/, '');
  const suffix = `.${domain}`;
  if (!name.endsWith(suffix)) return undefined;
  const device = name.slice(0, -suffix.length);
  if (!/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/.test(device)) return undefined;
  if (!/^\/(api|streamer)(\/|\?|$)/.test(pathAndQuery)) return undefined;
  return `/kvm/${device}${pathAndQuery}`;
}

/** Wraps a fetch handler so device hosts reach their PiKVM facade. */
export function withKvmHosts<A extends unknown[]>(domain: string | undefined, fetch: (req: Request, ...rest: A) => Response | Promise<Response>): (req: Request, ...rest: A) => Response | Promise<Response> {
  if (!domain) return fetch;
  return (req, ...rest) => {
    const url = new URL(req.url);
    const path = kvmHostPath(domain, req.headers.get('host') ?? url.host, url.pathname + url.search);
    if (!path) return fetch(req, ...rest);
    // `duplex` lets a streamed body (an image upload) pass through without being read here.
    return fetch(new Request(new URL(path, url), { method: req.method, headers: req.headers, body: req.body, redirect: req.redirect, signal: req.signal, duplex: 'half' } as RequestInit), ...rest);
  };
}

/** The same for websocket upgrades: rewrites `req.url` before the upgrade router sees it. */
export function rewriteKvmUpgrade(domain: string | undefined, req: IncomingMessage): void {
  const path = kvmHostPath(domain, req.headers.host, req.url ?? '/');
  if (path) req.url = path;
}

/** kvmd's `stream` query value of `/api/ws` (valid_bool, default true); an invalid value counts as the default. */
export function kvmStreamFlag(url: string | undefined): boolean {
  const v = new URL(url ?? '/', 'http://localhost').searchParams.get('stream');
  if (v === null) return true;
  return !['0', 'false', 'no', 'off'].includes(v.trim().toLowerCase());
}
