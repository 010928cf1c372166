import { spawn } from 'node:child_process';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createLogger, systemClock } from '@edgehook/shared';
import { startLocalEndpoint } from '../../src/telemetry/local-endpoint.js';
import { startPerfkit } from '../../src/perfkit/perfkit.capability.js';
import { agentConfigClasses, settingsFromDesired } from '../../src/perfkit/agent-settings.js';
import { jpegSize } from '../../src/perfkit/perfkit-local.routes.js';

const log = createLogger({ level: 'error', format: 'json', write: () => undefined });
const perfkit = startPerfkit({ clock: systemClock, log, pidCheckMs: 50 });
const pushed: unknown[] = [];
const ep = await startLocalEndpoint({ port: 0, log, now: () => Date.now(), push: (s) => (pushed.push(...s), true), routes: perfkit.localRoutes, traced: perfkit.traced });
const base = `http://127.0.0.1:${ep.port}`;

async function call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: any }> {
  const init: RequestInit = { method, headers: { 'content-type': 'application/json', ...headers } };
  if (body !== undefined) init.body = typeof body === 'string' || body instanceof Uint8Array ? body : JSON.stringify(body);
  const res = await fetch(base + path, init);
  return { status: res.status, body: await res.json() };
}

// A JPEG with an SOF0 of 640x480 (enough for the size parser and the SOI check).
const JPEG = Buffer.from([0xff, 0xd8, 0xff, 0xc0, 0x00, 0x11, 0x08, 0x01, 0xe0, 0x02, 0x80, 0x03, 0x01, 0x22, 0x00, 0x02, 0x11, 0x01, 0x03, 0x11, 0x01, 0xff, 0xd9]);

const decl = { classes: [{ name: 'render', description: 'Renderer', entries: [{ name: 'fps', type: 'int', default: 30, min: 1, max: 240, description: 'frames per second' }, { name: 'mode', type: 'enum', default: 'fast', options: ['fast', 'pretty'] }, { name: 'debug', type: 'bool', default: false }] }] };

test('a session registers, declares its config, pushes traces under it and ends when told', async () => {
  const r = await call('POST', '/v1/sessions', { name: 'renderer', pid: process.pid, description: 'test' });
  assert.is(r.status, 201);
  assert.is(r.body.name, 'renderer');
  assert.is(r.body.endedAt, null);
  const sid: string = r.body.id;
  const d = await call('PUT', `/v1/sessions/${sid}/config`, decl);
  assert.is(d.status, 200);
  assert.equal(d.body, { rev: 0, entries: [] });
  assert.is((await call('POST', `/v1/traces?session=${sid}`, { group: 'frames', samples: [{ name: 'ms', value: 4 }] })).status, 202);
  const listed = (await call('GET', '/v1/sessions')).body.sessions.find((s: { id: string }) => s.id === sid);
  assert.equal(listed.traceGroups, ['frames']);
  assert.ok(perfkit.registry.state().configs.some((c) => c.scope === 'renderer'));
  assert.is((await call('DELETE', `/v1/sessions/${sid}`)).body.endReason, 'closed');
  const again = await call('POST', `/v1/traces?session=${sid}`, { group: 'frames', samples: [{ name: 'ms', value: 4 }] });
  assert.is(again.status, 409);
  assert.match(again.body.error.message, /has ended/);
});

test('a session whose pid is gone ends by itself', async () => {
  const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)']);
  const r = await call('POST', '/v1/sessions', { name: 'short', pid: child.pid });
  child.kill('SIGKILL');
  await new Promise((res) => child.once('exit', res));
  for (let i = 0; i < 100 && perfkit.registry.get(r.body.id).info.endedAt === null; i++) await new Promise((res) => setTimeout(res, 20));
  assert.is(perfkit.registry.get(r.body.id).info.endReason, 'pid-gone');
});

test('desired values reach the program through the config long-poll, and it reports them back', async () => {
  const sid: string = (await call('POST', '/v1/sessions', { name: 'poller', pid: process.pid })).body.id;
  await call('PUT', `/v1/sessions/${sid}/config`, decl);
  const waiting = call('GET', `/v1/sessions/${sid}/config?after=0&wait=10000`);
  await new Promise((res) => setTimeout(res, 50));
  perfkit.registry.setDesired([{ scope: 'poller', key: 'render.fps', value: 60, version: 3 }, { scope: 'poller', key: 'render.nope', value: 1, version: 1 }, { scope: 'other', key: 'a.b', value: 1, version: 1 }]);
  const got = await waiting;
  assert.is(got.status, 200);
  assert.equal(got.body, { rev: 1, entries: [{ key: 'render.fps', value: 60, version: 3 }] }, 'only declared entries of its own scope');
  assert.is((await call('POST', `/v1/sessions/${sid}/config/reported`, { entries: [{ key: 'render.fps', value: 60, version: 3 }] })).status, 200);
  const scope = perfkit.registry.state().configs.find((c) => c.scope === 'poller');
  assert.equal(scope?.reported, [{ key: 'render.fps', value: 60, version: 3 }]);
  const bad = await call('POST', `/v1/sessions/${sid}/config/reported`, { entries: [{ key: 'render.fps', value: 'fast', version: 3 }] });
  assert.is(bad.status, 400);
  assert.match(bad.body.error.message, /render\.fps must be a number/);
});

test('images and interactions: the frame is kept with its size, events arrive in order with coordinates', async () => {
  const sid: string = (await call('POST', '/v1/sessions', { name: 'viewer', pid: process.pid })).body.id;
  const put = await fetch(`${base}/v1/sessions/${sid}/images/main`, { method: 'PUT', headers: { 'content-type': 'image/jpeg' }, body: JPEG });
  assert.equal(await put.json(), { seq: 1, width: 640, height: 480 });
  assert.equal((await call('GET', `/v1/sessions/${sid}`)).body.images.map((i: { name: string; seq: number }) => [i.name, i.seq]), [['main', 1]]);
  const waiting = call('GET', `/v1/sessions/${sid}/interactions?after=0&wait=10000`);
  await new Promise((res) => setTimeout(res, 50));
  const r = await perfkit.handlers['perfkit.interact']!({ session: sid, image: 'main', events: [{ type: 'mouse', action: 'click', x: 12, y: 34, button: 'left' }, { type: 'key', key: 'KeyA', down: true }] });
  assert.equal(r, { accepted: 2, lastSeq: 2 });
  const got = await waiting;
  assert.equal(got.body.events.map((e: { seq: number; event: unknown }) => [e.seq, e.event]), [[1, { type: 'mouse', action: 'click', x: 12, y: 34, button: 'left' }], [2, { type: 'key', key: 'KeyA', down: true }]]);
  assert.is(got.body.last, 2);
  assert.equal((await call('GET', `/v1/sessions/${sid}/interactions?after=2`)).body, { events: [], last: 2 });
  assert.equal(jpegSize(JPEG), { width: 640, height: 480 });
});

test('bad input at the local endpoint gets a clear 4xx with {error:{code,message}}', async () => {
  const sid: string = (await call('POST', '/v1/sessions', { name: 'badinput', pid: process.pid })).body.id;
  const cases: Array<[string, string, unknown, number, RegExp, Record<string, string>?]> = [
    ['POST', '/v1/sessions', '{nope', 400, /not valid JSON/],
    ['POST', '/v1/sessions', { name: 'Bad Name', pid: 1 }, 400, /invalid session: .*name.*lower-case/],
    ['POST', '/v1/sessions', { name: 'ok', pid: 0 }, 400, /invalid session: .*pid/],
    ['POST', '/v1/sessions', { name: 'ok', pid: 1, extra: true }, 400, /invalid session/],
    ['GET', '/v1/sessions/nosuch', undefined, 404, /no session nosuch/],
    ['GET', '/v1/sessions/bad%zz', undefined, 400, /percent-encoding/],
    ['PUT', `/v1/sessions/${sid}/config`, { classes: [{ name: 'a', entries: [{ name: 'x', type: 'int', default: 'ten' }] }] }, 400, /invalid config declaration: .*default must be a number/],
    ['PUT', `/v1/sessions/${sid}/config`, { classes: [{ name: 'a', entries: [{ name: 'x', type: 'enum', default: 'a' }] }] }, 400, /an enum needs options/],
    ['POST', `/v1/sessions/${sid}/config/reported`, { entries: [{ key: 'a.x', value: 1, version: 0 }] }, 409, /declare the config/],
    ['GET', `/v1/sessions/${sid}/config?wait=999999`, undefined, 400, /invalid wait: .*60000/],
    ['GET', `/v1/sessions/${sid}/interactions?after=x`, undefined, 400, /invalid after/],
    ['PUT', `/v1/sessions/${sid}/images/main`, 'not a jpeg', 400, /not a JPEG/, { 'content-type': 'image/jpeg' }],
    ['PUT', `/v1/sessions/${sid}/images/main`, 'x', 415, /image\/jpeg/, { 'content-type': 'text/plain' }],
    ['PUT', `/v1/sessions/${sid}/images/Bad`, 'x', 400, /invalid image name/, { 'content-type': 'image/jpeg' }],
    ['PATCH', '/v1/sessions', {}, 400, /use GET or POST/],
    ['POST', `/v1/traces?session=nosuch`, { group: 'g', samples: [{ name: 'a', value: 1 }] }, 404, /no session/],
  ];
  for (const [method, path, body, status, message, headers] of cases) {
    const r = await call(method, path, body, headers);
    assert.is(r.status, status, `${method} ${path}: ${JSON.stringify(r.body)}`);
    assert.type(r.body.error.code, 'string');
    assert.match(r.body.error.message, message, `${method} ${path}`);
  }
  const big = await fetch(`${base}/v1/sessions/${sid}/images/main`, { method: 'PUT', headers: { 'content-type': 'image/jpeg' }, body: Buffer.alloc(3 * 1024 * 1024, 0xff) });
  assert.is(big.status, 413);
});

test("the agent's settings: declared with the start values as defaults, desired values become settings", () => {
  const start = { intervalMs: 10_000, collectors: { cpu: 10_000, disk: 60_000, wireguard: 'off' as const } };
  const classes = agentConfigClasses(start);
  assert.equal(classes[0]?.entries[0]?.default, 10);
  assert.equal(classes[1]?.entries.find((e) => e.name === 'disk')?.default, 60);
  assert.equal(classes[1]?.entries.find((e) => e.name === 'wireguard')?.default, 0);
  const { settings, reported } = settingsFromDesired(classes, start, [{ key: 'telemetry.interval_s', value: 2, version: 1 }, { key: 'collectors.disk', value: 0, version: 2 }, { key: 'collectors.cpu', value: 'x', version: 3 }]);
  assert.equal(settings, { intervalMs: 2000, collectors: { cpu: 10_000, disk: 'off', wireguard: 'off' } });
  assert.equal(reported.map((r) => r.key), ['telemetry.interval_s', 'collectors.disk']);
});

test.after(async () => {
  perfkit.close();
  await ep.close();
});
test.run();
