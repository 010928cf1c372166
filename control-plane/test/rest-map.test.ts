import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { rm } from 'node:fs/promises';
import { Hono } from 'hono';
import * as z from '@edgehook/shared/zod';
import { createLogger } from '@edgehook/shared';
import { CoreRoutes, DeviceRoutes, RestRoutes, pathFor, route } from '@edgehook/shared/rest';
import { ApiClient, credentialsFrom } from '../src/cli/api-client.js';
import { credentialsStore } from '../src/cli/credentials.store.js';
import { responseCheck } from '../src/http/response-check.js';
import { buildApp, type AppDeps } from '../src/app.js';
import { PowRoutes } from '@edgehook/shared/rest';
import { buildPowOpenApi, openapiPath } from '../src/docs/openapi.js';
import { adminApi, login, tempDir } from './helpers/harness.js';
import { memoryControlPlane, type MemoryControlPlane } from './helpers/memory-app.js';

/**
 * Routes hono mounts that are not API operations: middleware (`use`, registered as ALL), the
 * not-found catch-alls of the PiKVM and Encedeus families, and the web console's fallback.
 */
function isApiRoute(method: string, path: string): boolean {
  if (method === 'ALL') return false;
  return !(path === '/*' && (method === 'GET' || method === 'HEAD'));
}

/** buildApp only registers routes; nothing here is called, so the deps can be inert. */
function mountedRoutes(): Set<string> {
  const inert: unknown = new Proxy(() => undefined, { get: (_t, key) => (key === 'then' ? undefined : inert), apply: () => inert });
  const deps = { db: inert, clock: inert, log: inert, auth: inert, rpc: inert, broker: inert, transport: inert, events: inert, relay: inert, revocations: inert, telemetry: inert, agentUpdates: inert, perfkit: inert, jobs: inert };
  const config: AppDeps['config'] = { tokens: { accessTtlMs: 1, refreshTtlMs: 1 }, secureCookies: false, mqtt: { port: 1 }, version: 'test', limits: { maxBodyBytes: 1, maxUploadBytes: 1 } };
  const app = buildApp(Object.assign(deps, { config }) as unknown as AppDeps);
  return new Set(app.routes.filter((r) => isApiRoute(r.method, r.path)).map((r) => `${r.method} ${r.path}`));
}

const declared = new Set(Object.values(RestRoutes).map((r) => `${r.method} ${r.path}`));

test('every mounted route is declared in the REST map', () => {
  const missing = [...mountedRoutes()].filter((r) => !declared.has(r));
  assert.equal(missing, [], `mounted but not in shared/src/rest/: ${missing.join(', ')}`);
});

test('every declared route is mounted (the map holds no stale entries)', () => {
  const mounted = mountedRoutes();
  const stale = [...declared].filter((r) => !mounted.has(r));
  assert.equal(stale, []);
});

test('the map has no duplicates and each path parameter has a schema', () => {
  assert.is(declared.size, Object.keys(RestRoutes).length);
  for (const [name, spec] of Object.entries(RestRoutes)) {
    const inPath = [...spec.path.matchAll(/:([A-Za-z_]+)/g)].map((m) => m[1]);
    const declaredParams = Object.keys('params' in spec ? spec.params : {});
    assert.equal(declaredParams.sort(), [...inPath].sort(), `${name}: path parameters`);
  }
});

test('the response check turns an answer outside its declared result into a 500', async () => {
  const spec = route({ method: 'GET', path: '/api/things/:id', summary: 'x', tag: 'x', auth: ['bearer'], permission: null, params: { id: z.string() }, result: z.object({ n: z.number() }) });
  const lines: string[] = [];
  const app = new Hono();
  app.use(responseCheck({ spec }, createLogger({ level: 'info', format: 'json', write: (l) => lines.push(l) })));
  app.get('/api/things/good', (c) => c.json({ n: 1 }));
  app.get('/api/things/bad', (c) => c.json({ n: 'one' }));
  app.get('/api/things/error', (c) => c.json({ error: { code: 'NOT_FOUND', message: 'no' } }, 404));
  assert.is((await app.request('/api/things/good')).status, 200);
  const bad = await app.request('/api/things/bad');
  assert.is(bad.status, 500);
  assert.match(JSON.stringify(await bad.json()), /RESPONSE_SCHEMA/);
  assert.ok(lines.some((l) => l.includes('declared result schema')));
  assert.is((await app.request('/api/things/error')).status, 404);
});

// The routes below need no broker: the app runs in memory.
let cp: MemoryControlPlane;
test.before(async () => {
  cp = await memoryControlPlane();
});
test.after(async () => {
  await cp?.close();
});

test('GET /api/openapi.json is a well-formed OpenAPI 3.1 document covering the map', async () => {
  const res = await cp.fetch(cp.url + '/api/openapi.json');
  assert.is(res.status, 200);
  const doc = (await res.json()) as { openapi: string; paths: Record<string, Record<string, any>>; components: { securitySchemes: Record<string, unknown>; schemas: Record<string, unknown> } };
  assert.is(doc.openapi, '3.1.0');
  const ids = new Set<string>();
  const methods = new Set(['get', 'post', 'put', 'patch', 'delete', 'head']);
  let operations = 0;
  for (const [path, item] of Object.entries(doc.paths)) {
    assert.ok(path.startsWith('/'), path);
    assert.not.ok(path.includes(':'), `${path}: templated as {param}`);
    const templated = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
    for (const [method, op] of Object.entries(item)) {
      assert.ok(methods.has(method), `${path}: ${method}`);
      operations++;
      assert.type(op.operationId, 'string');
      assert.not.ok(ids.has(op.operationId), `duplicate operationId ${op.operationId}`);
      ids.add(op.operationId);
      assert.ok(Object.keys(op.responses).length > 0, `${op.operationId}: responses`);
      for (const status of Object.keys(op.responses)) assert.ok(/^[1-5]\d\d$/.test(status), `${op.operationId}: status ${status}`);
      const pathParams = op.parameters.filter((p: any) => p.in === 'path').map((p: any) => p.name);
      assert.equal(pathParams.sort(), [...templated].sort(), `${op.operationId}: path parameters`);
      for (const p of op.parameters) assert.ok(['path', 'query', 'header', 'cookie'].includes(p.in) && typeof p.schema === 'object', `${op.operationId}: parameter ${p.name}`);
      for (const req of op.security) for (const scheme of Object.keys(req)) assert.ok(scheme in doc.components.securitySchemes, `${op.operationId}: security ${scheme}`);
      assert.type(op['x-permission'] === null || typeof op['x-permission'] === 'string', 'boolean');
    }
  }
  // Every $ref points into components.
  const refs = JSON.stringify(doc).match(/"\$ref":"[^"]+"/g) ?? [];
  for (const ref of refs) {
    const target = ref.slice(8, -1);
    assert.ok(target.startsWith('#/components/schemas/') && target.slice('#/components/schemas/'.length) in doc.components.schemas, ref);
  }
  // Every declared route is in it, but the docs' own wildcard path.
  const wanted = Object.values(RestRoutes).filter((r) => !r.path.includes('*')).length;
  assert.is(operations, wanted);
  for (const spec of Object.values(RestRoutes)) if (!spec.path.includes('*')) assert.ok(doc.paths[openapiPath(spec.path)]?.[spec.method.toLowerCase()], `${spec.method} ${spec.path}`);
  // Auth schemes as the API takes them.
  assert.equal(Object.keys(doc.components.securitySchemes).sort(), ['basic', 'bearer', 'cookie', 'kvmd']);
  assert.equal(doc.paths['/kvm/{deviceId}/api/atx']?.['get']?.security.map((s: object) => Object.keys(s)[0]), ['kvmd', 'basic', 'cookie', 'bearer']);
  assert.is(doc.paths['/api/devices/{id}/hardware/atx/power']?.['post']?.['x-permission'], 'devices.power');
});

test('/docs/ serves Swagger UI from the package, no CDN', async () => {
  const page = await cp.fetch(cp.url + '/docs/');
  assert.is(page.status, 200);
  const html = await page.text();
  assert.not.match(html, /https?:\/\//);
  for (const src of [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1] ?? '')) {
    const res = await cp.fetch(cp.url + src);
    assert.is(res.status, 200, src);
    assert.ok((await res.arrayBuffer()).byteLength > 0, src);
  }
  const init = await (await cp.fetch(cp.url + '/docs/init.js')).text();
  assert.match(init, /\/api\/openapi\.json/);
  assert.is((await cp.fetch(cp.url + '/docs/../../package.json')).status, 404);
  assert.is((await cp.fetch(cp.url + '/docs/nope.js')).status, 404);
});

test("pow-1's mirror answers its openapi.json, shaped like the Go server's", async () => {
  const api = await adminApi(cp);
  const unknown = await api.request('GET', '/api/devices/no-such-device/pow/openapi.json');
  assert.is(unknown.status, 404);
  assert.match(String(unknown.body), /no device/);
  assert.is(unknown.headers.get('content-type')?.startsWith('text/plain'), true);
});

test("the pow-1 document has the Go server's paths, methods and text/plain errors", () => {
  const doc = buildPowOpenApi(PowRoutes, '/api/devices/pi-a/pow') as { openapi: string; servers: Array<{ url: string }>; paths: Record<string, Record<string, any>> };
  assert.is(doc.openapi, '3.0.0');
  assert.equal(doc.servers, [{ url: '/api/devices/pi-a/pow' }]);
  const ops = Object.entries(doc.paths).flatMap(([path, item]) => Object.keys(item).map((m) => `${m} ${path}`)).sort();
  assert.equal(ops, ['get /status/{id}', 'post /cancel/{id}', 'post /closeInput/{id}', 'post /input/{id}', 'post /new']);
  assert.ok(doc.paths['/new']?.['post'].requestBody.content['application/json'].schema.properties.call);
  assert.ok(doc.paths['/input/{id}']?.['post'].requestBody.content['text/plain']);
  assert.ok(doc.paths['/status/{id}']?.['get'].responses['404'].content['text/plain']);
  assert.is(doc.paths['/cancel/{id}']?.['post'].responses['200'].content['text/plain'].schema.example, 'process cancelled');
});

test('pathFor fills and encodes path parameters', () => {
  assert.is(pathFor(DeviceRoutes.gpioSwitch, { id: 'pi a', channel: 'relay/1' }), '/api/devices/pi%20a/hardware/gpio/relay%2F1/switch');
  assert.throws(() => pathFor(DeviceRoutes.deviceGet, {} as { id: string }), /missing path parameter id/);
});

test("the CLI's ApiClient calls map entries with typed input and parsed results", async () => {
  const dir = await tempDir();
  const pair = await login(cp);
  const store = credentialsStore(dir, Date.now);
  const client = new ApiClient({ fetch: cp.fetch, now: Date.now, store }, cp.url, credentialsFrom(cp.url, 'admin', { ...pair, expiresIn: 900 }, Date.now()));
  const me = await client.route(CoreRoutes.check, { params: {} });
  assert.is(me.user.username, 'admin');
  assert.equal(await client.route(DeviceRoutes.deviceList, { params: {}, query: { online: 'true' } }), []);
  const role = await client.route(CoreRoutes.roleCreate, { params: {}, body: { name: 'map-test', permissions: ['devices.read'] } });
  assert.is((await client.route(CoreRoutes.roleGet, { params: { id: role.id } })).name, 'map-test');
  assert.is(await client.route(CoreRoutes.roleDelete, { params: { id: role.id } }), null);
  await client.route(DeviceRoutes.deviceGet, { params: { id: 'nope' } }).then(
    () => assert.unreachable('an unknown device is an error'),
    (err: unknown) => assert.match(String(err), /no device/),
  );
  await rm(dir, { recursive: true, force: true });
});

test.run();
