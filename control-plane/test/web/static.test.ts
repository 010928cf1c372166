import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { Hono } from 'hono';
import { defaultWebDir, staticRoutes } from '../../src/web/static.routes.js';
import { notFound } from '../../src/http/errors.js';
import { jsonOf } from '../helpers/harness.js';

let dir = '';
/** What a browser sends when it navigates to a page. */
const PAGE = { headers: { accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8' } };
let outside = '';
const INDEX = '<!doctype html><title>console</title><script type="module" src="/assets/index-abc123.js"></script>';

function appFor(distDir: string): Hono {
  const app = new Hono();
  app.notFound(notFound);
  app.get('/api/health', (c) => c.json({ ok: true }));
  app.route('/', staticRoutes({ distDir }));
  return app;
}

test.before(async () => {
  const base = await mkdtemp(join(tmpdir(), 'edgehook-web-'));
  dir = join(base, 'dist');
  outside = join(base, 'secret.txt');
  await mkdir(join(dir, 'assets'), { recursive: true });
  await writeFile(join(dir, 'index.html'), INDEX);
  await writeFile(join(dir, 'assets', 'index-abc123.js'), 'console.log("hi")');
  await writeFile(join(dir, 'assets', 'index-abc123.js.gz'), gzipSync('console.log("hi")'));
  await writeFile(join(dir, 'assets', 'style-1.css'), 'body{}');
  await writeFile(join(dir, 'robots.txt'), 'User-agent: *');
  await writeFile(outside, 'top secret');
});
test.after(async () => {
  await rm(join(dir, '..'), { recursive: true, force: true });
});

test('index.html at / with no-cache and an HTML content type', async () => {
  const res = await appFor(dir).request('/', PAGE);
  assert.is(res.status, 200);
  assert.is(res.headers.get('cache-control'), 'no-cache');
  assert.match(res.headers.get('content-type') ?? '', /^text\/html/);
  assert.is(await res.text(), INDEX);
});

test('hashed assets are immutable for a year, with their content type', async () => {
  const js = await appFor(dir).request('/assets/index-abc123.js');
  assert.is(js.status, 200);
  assert.is(js.headers.get('cache-control'), 'public, max-age=31536000, immutable');
  assert.match(js.headers.get('content-type') ?? '', /^text\/javascript/);
  assert.is(await js.text(), 'console.log("hi")');
  const css = await appFor(dir).request('/assets/style-1.css');
  assert.match(css.headers.get('content-type') ?? '', /^text\/css/);
});

test('precompressed gzip is served only to clients that accept it', async () => {
  const gz = await appFor(dir).request('/assets/index-abc123.js', { headers: { 'accept-encoding': 'gzip, br' } });
  assert.is(gz.headers.get('content-encoding'), 'gzip');
  assert.is(gz.headers.get('vary'), 'accept-encoding');
  const plain = await appFor(dir).request('/assets/index-abc123.js', { headers: { 'accept-encoding': 'identity' } });
  assert.is(plain.headers.get('content-encoding'), null);
  assert.is(await plain.text(), 'console.log("hi")');
});

test('unknown app routes fall back to index.html; missing assets are a real 404', async () => {
  for (const path of ['/devices/abc/terminal', '/admin/users', '/login?next=%2Fdevices']) {
    const res = await appFor(dir).request(path, PAGE);
    assert.is(res.status, 200, path);
    assert.is(await res.text(), INDEX, path);
  }
  const missing = await appFor(dir).request('/assets/gone-123.js');
  assert.is(missing.status, 404);
  const robots = await appFor(dir).request('/robots.txt');
  assert.is(await robots.text(), 'User-agent: *');
});

test('API paths are never answered with the console', async () => {
  for (const path of ['/api/nope', '/api', '/kvm/dev/api/nothing', '/mqtt']) {
    const res = await appFor(dir).request(path);
    assert.is(res.status, 404, path);
    const body = await jsonOf(res);
    assert.is(body.error.code, 'NOT_FOUND', path);
  }
  const health = await appFor(dir).request('/api/health');
  assert.equal(await health.json(), { ok: true });
  const post = await appFor(dir).request('/devices', { method: 'POST' });
  assert.is(post.status, 404);
});

test('only a page request gets the app: other unknown paths are a JSON 404 (GET /role, GET /user/x, POSTs)', async () => {
  const app = appFor(dir);
  for (const path of ['/role', '/user/x', '/devices/abc/terminal']) {
    for (const headers of [{}, { accept: "application/json" }, { accept: "*/*" }] as Array<Record<string, string>>) {
      const res = await app.request(path, { headers });
      assert.is(res.status, 404, `${path} ${JSON.stringify(headers)}`);
      assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
      assert.is((await jsonOf(res)).error.code, 'NOT_FOUND');
    }
    const page = await app.request(path, PAGE);
    assert.is(page.status, 200, path);
    assert.is(await page.text(), INDEX);
    for (const method of ['POST', 'PUT', 'DELETE']) {
      const res = await app.request(path, { method, ...PAGE });
      assert.is(res.status, 404, `${method} ${path}`);
      assert.is((await jsonOf(res)).error.code, 'NOT_FOUND');
    }
  }
  // The root is the app for any client (curl http://host:8080/ shows the page).
  assert.is(await (await app.request('/')).text(), INDEX);
  // Real files are served whatever the Accept header says.
  assert.is(await (await app.request('/robots.txt')).text(), 'User-agent: *');
  assert.is((await app.request('/assets/style-1.css', { headers: { accept: 'text/css' } })).status, 200);
});

test('no path traversal out of the dist directory', async () => {
  const app = appFor(dir);
  for (const path of ['/%2e%2e/secret.txt', '/assets/%2e%2e/%2e%2e/secret.txt', '/..%2fsecret.txt', '/assets/..%2f..%2fsecret.txt', '/%2e%2e%2f%2e%2e%2fetc%2fpasswd', '/assets/%00.js']) {
    const res = await app.request(path);
    const text = await res.text();
    assert.not.match(text, /top secret|root:/, path);
    assert.ok(res.status === 404 || res.status === 400 || text === INDEX, `${path} -> ${res.status}`);
  }
});

test('a missing build answers 503 with a clear page', async () => {
  const res = await appFor(join(dir, 'not-built')).request('/', PAGE);
  assert.is(res.status, 503);
  assert.match(await res.text(), /web console not built: run <code>npm run build<\/code>|run npm run build|npm run build/);
});

test('the default directory is control-plane/web/dist', () => {
  assert.match(defaultWebDir().replaceAll('\\', '/'), /control-plane\/web\/dist$/);
});

test('the built console keeps its first load under 300 KB of gzip JS', () => {
  const dist = defaultWebDir();
  let html: string;
  try {
    html = readFileSync(join(dist, 'index.html'), 'utf8');
  } catch {
    assert.unreachable('control-plane/web/dist is not built: run npm run build');
    return;
  }
  const initial = [...html.matchAll(/(?:src|href)="\/assets\/([^"]+\.js)"/g)].map((m) => m[1] ?? '');
  assert.ok(initial.length > 0, 'index.html loads a script');
  const total = initial.reduce((n, name) => n + gzipSync(readFileSync(join(dist, 'assets', name))).length, 0);
  assert.ok(total < 300 * 1024, `first load ${total} bytes gzip`);
  // xterm and uPlot are not in the first load.
  const lazy = readdirSync(join(dist, 'assets')).filter((f) => f.endsWith('.js') && !initial.includes(f));
  assert.ok(lazy.length >= 2, 'terminal and chart code load on demand');
  for (const name of initial) assert.not.match(readFileSync(join(dist, 'assets', name), 'utf8'), /xterm-helper-textarea|uplot/i, name);
});

test.run();
