import { readFile, stat } from 'node:fs/promises';
import { extname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Hono, type Context } from 'hono';
import type { AppEnv } from '../http/context.js';
import { notFound } from '../http/errors.js';

/** control-plane/web/dist, resolved from this file (dist/web/static.routes.js or src/web/...). */
export function defaultWebDir(): string {
  return fileURLToPath(new URL('../../web/dist', import.meta.url));
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
};

// Paths that belong to APIs: never answered with the console's index.html.
const API_PREFIXES = ['/api/', '/kvm/'];
const isApiPath = (p: string) => p === '/api' || p === '/kvm' || p === '/mqtt' || API_PREFIXES.some((prefix) => p.startsWith(prefix));

const NOT_BUILT = `<!doctype html><meta charset="utf-8"><title>Edgehook</title>
<h1>Edgehook: web console not built</h1><p>The web console is not built: run <code>npm run build</code>, then reload.</p>
<p>The REST API under <code>/api</code> works without it.</p>`;

/** A browser navigating says `text/html` in Accept; fetch(), curl and API clients do not. */
const wantsHtml = (accept: string | undefined) => /(^|,)\s*text\/html\s*(;|,|$)/i.test(accept ?? '');

interface Asset {
  body: Buffer;
  gzip: Buffer | undefined;
}

/**
 * The web console (control-plane/web/dist): hashed files under /assets/ cached for a year,
 * index.html revalidated every time, and index.html for every other non-API GET that accepts text/html
 * (client-side routes); a JSON 404 for any other request.
 * Mounted after every API route. Files are read once and kept (the dist is small and immutable).
 */
export function staticRoutes(deps: { distDir: string }): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const root = resolve(deps.distDir);
  const cache = new Map<string, Asset>();

  async function load(rel: string): Promise<Asset | null> {
    const hit = cache.get(rel);
    if (hit !== undefined) return hit;
    const path = resolve(root, rel);
    // Containment check after resolving: `..`, encoded or not, never leaves the dist directory.
    if (path !== root && !path.startsWith(root + sep)) return null;
    let asset: Asset | null = null;
    try {
      if ((await stat(path)).isFile()) {
        const body = await readFile(path);
        const gzip = await readFile(path + '.gz').catch(() => undefined);
        asset = { body, gzip };
      }
    } catch {
      asset = null;
    }
    // Misses are not remembered: a console built after start is picked up.
    if (asset) cache.set(rel, asset);
    return asset;
  }

  function send(c: Context<AppEnv>, asset: Asset, rel: string, cacheControl: string): Response {
    const headers: Record<string, string> = {
      'content-type': TYPES[extname(rel).toLowerCase()] ?? 'application/octet-stream',
      'cache-control': cacheControl,
      'x-content-type-options': 'nosniff',
      vary: 'accept-encoding',
    };
    const gzipOk = asset.gzip !== undefined && /\bgzip\b/.test(c.req.header('accept-encoding') ?? '');
    if (gzipOk) headers['content-encoding'] = 'gzip';
    const body = gzipOk && asset.gzip ? asset.gzip : asset.body;
    headers['content-length'] = String(body.byteLength);
    return new Response(c.req.method === 'HEAD' ? null : new Uint8Array(body), { status: 200, headers });
  }

  app.on(['GET', 'HEAD'], '*', async (c) => {
    const path = c.req.path;
    if (isApiPath(path)) return notFound(c);
    let decoded: string;
    try {
      decoded = decodeURIComponent(path);
    } catch {
      return c.json({ error: { code: 'BAD_REQUEST', message: 'malformed path' } }, 400);
    }
    if (decoded.includes('\0')) return c.json({ error: { code: 'BAD_REQUEST', message: 'malformed path' } }, 400);
    const html = wantsHtml(c.req.header('accept'));
    const index = await load('index.html');
    if (!index) return html || decoded === '/' ? c.html(NOT_BUILT, 503, { 'cache-control': 'no-store' }) : notFound(c);
    const rel = join('.', decoded);
    if (decoded.startsWith('/assets/')) {
      const asset = await load(rel);
      // A missing hashed asset is a real 404 (an old index.html asking for a gone chunk), not the SPA.
      if (!asset) return c.text('not found', 404, { 'cache-control': 'no-store' });
      return send(c, asset, rel, 'public, max-age=31536000, immutable');
    }
    if (decoded !== '/' && extname(decoded) !== '') {
      const file = await load(rel);
      if (file) return send(c, file, rel, 'no-cache');
    }
    // The app's client-side routes are pages: only a page request (or /) gets index.html. Anything else
    // (GET /role from a script, a typo'd API path) is the API's JSON 404, not a 200 of HTML.
    if (!html && decoded !== '/') return notFound(c);
    return send(c, index, 'index.html', 'no-cache');
  });
  return app;
}
