import type { MiddlewareHandler } from 'hono';
import type { Logger } from '@edgehook/shared';
import type { RouteSpec } from '@edgehook/shared/rest';
import type { AppEnv } from './context.js';

function pattern(path: string): RegExp {
  const source = path
    .split('/')
    .map((seg) => (seg.startsWith(':') ? '[^/]+' : seg === '*' ? '.*' : seg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
    .join('/');
  return new RegExp(`^${source}/?$`);
}

/**
 * Test aid (the suite turns it on): every 2xx JSON answer must parse with the result schema its
 * route declares in the map, else the answer becomes a 500 naming the mismatch, so a handler
 * cannot drift from the map (and from the OpenAPI document) unnoticed.
 */
export function responseCheck(routes: Readonly<Record<string, RouteSpec>>, log: Logger): MiddlewareHandler<AppEnv> {
  const table = Object.entries(routes)
    .filter(([, spec]) => (spec.resultKind ?? 'json') === 'json')
    .map(([name, spec]) => ({ name, spec, re: pattern(spec.path) }));
  return async function responseCheckHandler(c, next) {
    await next();
    const res = c.res;
    if (res.status < 200 || res.status > 299 || !(res.headers.get('content-type') ?? '').includes('json')) return;
    const candidates = table.filter((r) => r.spec.method === c.req.method && r.re.test(c.req.path));
    if (candidates.length === 0) return;
    // Headers first: node-server's lightweight Response forgets header changes made by inner
    // middleware once its body is read. Then a fresh Response with the same status and headers.
    const headers = new Headers(res.headers);
    headers.delete('content-length');
    const text = await res.text();
    c.res = undefined;
    c.res = new Response(text, { status: res.status, headers });
    const body: unknown = JSON.parse(text);
    const failures: string[] = [];
    for (const r of candidates) {
      const parsed = r.spec.result.safeParse(body);
      if (parsed.success) return;
      failures.push(`${r.name}: ${parsed.error.issues.map((i) => `${i.path.join('.')} ${i.message}`).join('; ')}`);
    }
    log.error('response does not match its declared result schema', { method: c.req.method, path: c.req.path, failures });
    c.res = undefined;
    c.res = new Response(JSON.stringify({ error: { code: 'RESPONSE_SCHEMA', message: `${c.req.method} ${c.req.path} answered outside its declared result: ${failures.join(' | ')}` } }), { status: 500, headers: { 'content-type': 'application/json' } });
  };
}
