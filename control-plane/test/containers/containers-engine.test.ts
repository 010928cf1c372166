// Containers end to end: REST, declared servers, the Wings console socket, files and the CLI,
// through a real control plane and a real agent process, against a real engine (a private Podman
// service with a local busybox image). Skipped locally without podman; fails in CI.
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { startTestEngine, TEST_IMAGE, type TestEngine } from '../../../agent/test/containers/podman-engine.js';
import { ADMIN_PASSWORD, adminApi, apiClient, login, runCli as cli, cleanup, killAllAgents, startTestControlPlane, tempDir, waitFor, type AgentProcess, type Api, type TestControlPlane } from '../helpers/harness.js';
import { userWith } from '../hardware/kvm-helpers.js';
import { containerAgent, wingsConsole } from './fixtures.js';

interface Ctx {
  engine: TestEngine | null;
  cp: TestControlPlane;
  api: Api;
  agent: AgentProcess & { deviceId: string };
  base: string;
  config: string;
}
const t = suite<Ctx>('containers through the whole chain (real engine)');

const ECHO_SERVER = { name: 'echo1', image: TEST_IMAGE, cmd: ['sh', '-c', 'echo started; echo warming >&2; while read l; do echo "got:$l"; done'], memoryBytes: 64 * 1024 * 1024, labels: { app: 'echo' } };

t.before(async (ctx) => {
  // With a local registry (oci-registry.ts) the engine can pull from: the pull-progress test uses it.
  ctx.engine = await startTestEngine({ registry: true });
  if (!ctx.engine) return;
  ctx.cp = await startTestControlPlane();
  ctx.api = await adminApi(ctx.cp);
  ctx.agent = await containerAgent(ctx.cp, ctx.api, ctx.engine);
  ctx.base = `/api/devices/${ctx.agent.deviceId}`;
  ctx.config = await tempDir('edgehook-cli-');
  const login = await cli(ctx.config, ['login', '--server', ctx.cp.url, '--username', 'admin'], { EDGEHOOK_PASSWORD: ADMIN_PASSWORD });
  if (login.code !== 0) throw new Error(`login failed: ${login.stderr}`);
});
t.after(async (ctx) => {
  if (!ctx.engine) return;
  await killAllAgents();
  await ctx.cp.close();
  await ctx.engine.stop();
  await cleanup(ctx.cp.dataDir, ctx.config);
});

const skip = (ctx: Ctx): boolean => {
  if (ctx.engine) return false;
  console.log('  (skipped: no podman/busybox here; CI=true makes this a failure)');
  return true;
};

t('engine info, then a declared server is created and started; applying again changes nothing', async (ctx) => {
  if (skip(ctx)) return;
  const engine = await ctx.api.request('GET', `${ctx.base}/engine`);
  assert.is(engine.status, 200, JSON.stringify(engine.body));
  assert.match(engine.body.name.toLowerCase(), /podman|docker/);
  const put = await ctx.api.request('PUT', `${ctx.base}/servers`, { servers: [ECHO_SERVER] });
  assert.is(put.status, 200, JSON.stringify(put.body));
  assert.ok(put.body.apply.ok, JSON.stringify(put.body.apply));
  assert.equal(put.body.apply.steps.map((s: any) => s.step.action), ['create', 'start']);
  const list = await ctx.api.request('GET', `${ctx.base}/containers`);
  const echo = list.body.find((c: any) => c.name === 'echo1');
  assert.ok(echo, JSON.stringify(list.body));
  assert.is(echo.power, 'running');
  assert.is(echo.declared, true);
  assert.is(echo.labels.app, 'echo');
  const again = await ctx.api.request('PUT', `${ctx.base}/servers`, { servers: [ECHO_SERVER] });
  assert.equal(again.body.apply.steps, []);
  const stored = await ctx.api.request('GET', `${ctx.base}/servers`);
  assert.is(stored.body.revision, 2);
  assert.is(stored.body.lastApply.revision, 2);
  // A changed spec is a recreate in the dry run.
  const plan = await ctx.api.request('POST', `${ctx.base}/servers/plan`, { servers: [{ ...ECHO_SERVER, env: { MODE: 'x' } }] });
  assert.is(plan.body.steps[0].action, 'recreate');
});

t('logs keep stdout and stderr apart (multiplexed stream); stats carry the Wings keys', async (ctx) => {
  if (skip(ctx)) return;
  const logs = await waitFor('logs', async () => {
    const r = await ctx.api.request('GET', `${ctx.base}/containers/echo1/logs?tail=10`);
    return r.body.lines?.length >= 2 ? r.body : undefined;
  });
  assert.ok(logs.lines.some((l: any) => l.stream === 'stdout' && l.line === 'started'), JSON.stringify(logs));
  assert.ok(logs.lines.some((l: any) => l.stream === 'stderr' && l.line === 'warming'), JSON.stringify(logs));
  // Followed logs stream as the container writes them, until the client leaves.
  const abort = new AbortController();
  const follow = await fetch(`${ctx.cp.url}${ctx.base}/containers/echo1/logs?tail=5&follow=1`, { headers: { authorization: `Bearer ${ctx.api.token}` }, signal: abort.signal });
  assert.is(follow.status, 200);
  const reader = follow.body!.getReader();
  const c = await wingsConsole(ctx.cp, ctx.api, ctx.agent.deviceId, 'echo1');
  c.send('send command', 'followed');
  let text = '';
  while (!text.includes('got:followed')) {
    const { value, done } = await reader.read();
    if (done) break;
    text += Buffer.from(value).toString();
  }
  assert.match(text, /started[\s\S]*got:followed/);
  abort.abort();
  c.ws.close();
  const stats = await ctx.api.request('GET', `${ctx.base}/containers/echo1/stats`);
  assert.is(stats.status, 200, JSON.stringify(stats.body));
  for (const key of ['memory_bytes', 'memory_limit_bytes', 'cpu_absolute', 'network', 'uptime', 'state', 'disk_bytes']) assert.ok(key in stats.body, key);
  assert.is(stats.body.state, 'running');
  assert.is(stats.body.memory_limit_bytes, 64 * 1024 * 1024);
  assert.ok(stats.body.memory_bytes > 0);
  assert.ok(stats.body.uptime > 0, `uptime ${stats.body.uptime}`);
});

t('Wings console: auth, status, console round trip, send logs, stats, set state stop and start', async (ctx) => {
  if (skip(ctx)) return;
  const c = await wingsConsole(ctx.cp, ctx.api, ctx.agent.deviceId, 'echo1');
  assert.equal(await c.next('status'), ['running']);
  c.send('send command', 'hello wings');
  await c.next('console output', (a) => a[0] === 'got:hello wings');
  c.send('send logs');
  await c.next('console output', (a) => a[0] === 'started');
  c.send('send stats');
  const stats = JSON.parse((await c.next('stats'))[0] ?? '{}');
  assert.is(stats.state, 'running');
  c.send('set state', 'stop');
  await c.next('status', (a) => a[0] === 'stopping');
  await c.next('status', (a) => a[0] === 'offline', 30_000);
  c.send('set state', 'start');
  await c.next('status', (a) => a[0] === 'running', 30_000);
  c.send('send command', 'after restart');
  await c.next('console output', (a) => a[0] === 'got:after restart');
  c.send('set state', 'bogus');
  assert.match((await c.next('daemon error'))[0] ?? '', /expected start, stop, restart or kill/);
  c.ws.send('not json');
  assert.match((await c.next('daemon error'))[0] ?? '', /bad frame/);
  c.ws.close();
});

t('console refuses a bad token, a token for another console, and a role without console rights', async (ctx) => {
  if (skip(ctx)) return;
  const c = await wingsConsole(ctx.cp, ctx.api, ctx.agent.deviceId, 'echo1', { auth: false });
  c.send('send command', 'too early');
  assert.match((await c.next('daemon error'))[0] ?? '', /auth/);
  c.send('auth', 'ehc_not-a-token');
  await c.next('daemon error', (a) => /authentication failed/.test(a[0] ?? ''));
  assert.is((await c.closed).code, 4001);
  // A token issued for another container does not open this one.
  const other = await ctx.api.request('GET', `${ctx.base}/containers/other/websocket`);
  const d = await wingsConsole(ctx.cp, ctx.api, ctx.agent.deviceId, 'echo1', { auth: false });
  d.send('auth', other.body.data.token);
  await d.next('daemon error', (a) => /another console|invalid/.test(a[0] ?? ''));
  const { user, pass } = await userWith(ctx.api, 'ct-viewer', ['devices.read', 'containers.read']);
  const viewer = apiClient(ctx.cp.url, (await login(ctx.cp.url, user, pass)).accessToken);
  const denied = await viewer.request('GET', `${ctx.base}/containers/echo1/websocket`);
  assert.is(denied.status, 403);
  const listed = await viewer.request('GET', `${ctx.base}/containers`);
  assert.is(listed.status, 200);
  const power = await viewer.request('POST', `${ctx.base}/containers/echo1/power`, { action: 'stop' });
  assert.is(power.status, 403);
});

t('files: upload streamed, list, download, rename, mkdir, delete; escapes refused', async (ctx) => {
  if (skip(ctx)) return;
  const files = `${ctx.base}/servers/echo1/files`;
  const payload = Buffer.alloc(3 * 1024 * 1024 + 17, 7);
  payload.write('edgehook-files', 0);
  const up = await fetch(`${ctx.cp.url}${files}/content?path=${encodeURIComponent('/cfg/big.bin')}`, { method: 'PUT', headers: { authorization: `Bearer ${ctx.api.token}` }, body: payload });
  assert.is(up.status, 201, await up.clone().text());
  const list = await ctx.api.request('GET', `${files}?path=/cfg`);
  assert.equal(list.body.map((e: any) => [e.name, e.type, e.size]), [['big.bin', 'file', payload.length]]);
  const down = await fetch(`${ctx.cp.url}${files}/content?path=/cfg/big.bin`, { headers: { authorization: `Bearer ${ctx.api.token}` } });
  assert.is(down.status, 200);
  assert.is(down.headers.get('content-length'), String(payload.length));
  assert.ok(Buffer.from(await down.arrayBuffer()).equals(payload));
  assert.is((await ctx.api.request('POST', `${files}/mkdir`, { path: '/cfg/sub/deeper' })).status, 200);
  assert.is((await ctx.api.request('POST', `${files}/rename`, { from: '/cfg/big.bin', to: '/cfg/sub/moved.bin' })).status, 200);
  const moved = await ctx.api.request('GET', `${files}?path=/cfg/sub`);
  assert.ok(moved.body.some((e: any) => e.name === 'moved.bin'));
  assert.is((await ctx.api.request('POST', `${files}/delete`, { path: '/cfg/sub' })).status, 200);
  for (const bad of ['../../../etc/passwd', '/../../etc/shadow', 'a/../../x']) {
    const r = await ctx.api.request('GET', `${files}?path=${encodeURIComponent(bad)}`);
    assert.ok(r.status === 403 || r.status === 400, `${bad}: ${r.status}`);
    const w = await fetch(`${ctx.cp.url}${files}/content?path=${encodeURIComponent(bad)}`, { method: 'PUT', headers: { authorization: `Bearer ${ctx.api.token}` }, body: 'x' });
    assert.ok(w.status === 403 || w.status === 400, `upload ${bad}: ${w.status}`);
  }
  const missing = await fetch(`${ctx.cp.url}${files}/content?path=/nope.txt`, { headers: { authorization: `Bearer ${ctx.api.token}` } });
  assert.is(missing.status, 404);
  // The container sees the files under its data mount.
  await ctx.api.request('POST', `${files}/mkdir`, { path: '/seen' });
  const c = await wingsConsole(ctx.cp, ctx.api, ctx.agent.deviceId, 'echo1');
  c.send('send command', 'x');
  await c.next('console output', (a) => a[0] === 'got:x');
  c.ws.close();
});

t('an ad-hoc container that exits on its own is reported offline with its exit code; remove', async (ctx) => {
  if (skip(ctx)) return;
  const created = await ctx.api.request('POST', `${ctx.base}/containers`, { spec: { name: 'oneshot', image: TEST_IMAGE, cmd: ['sh', '-c', 'echo bye; exit 3'] }, start: true });
  assert.is(created.status, 201, JSON.stringify(created.body));
  const done = await waitFor('exited', async () => {
    const r = await ctx.api.request('GET', `${ctx.base}/containers/oneshot`);
    return r.body.engineState === 'exited' ? r.body : undefined;
  }, 30_000);
  assert.is(done.power, 'offline');
  assert.is(done.exitCode, 3);
  assert.is(done.declared, false);
  // Not declared: applying the declared set leaves it alone.
  const apply = await ctx.api.request('PUT', `${ctx.base}/servers`, { servers: [ECHO_SERVER] });
  assert.ok(!apply.body.apply.steps.some((s: any) => s.step.server === 'oneshot'));
  const dup = await ctx.api.request('POST', `${ctx.base}/containers`, { spec: { name: 'oneshot', image: TEST_IMAGE } });
  assert.is(dup.status, 409);
  assert.is((await ctx.api.request('DELETE', `${ctx.base}/containers/oneshot`)).status, 204);
  assert.is((await ctx.api.request('GET', `${ctx.base}/containers/oneshot`)).status, 404);
});

t('bad input gets clear 400s', async (ctx) => {
  if (skip(ctx)) return;
  const cases: Array<[string, string, unknown]> = [
    ['PUT', '/servers', { servers: [{ name: 'BAD NAME', image: 'x' }] }],
    ['PUT', '/servers', { servers: [ECHO_SERVER, ECHO_SERVER] }],
    ['PUT', '/servers', { servers: [{ ...ECHO_SERVER, labels: { 'io.edgehook.owner': 'me' } }] }],
    ['POST', '/containers', { spec: { name: 'x', image: 'has space' } }],
    ['POST', '/containers/echo1/power', { action: 'explode' }],
    ['GET', '/containers/echo1/logs?tail=-4', undefined],
    ['GET', '/containers/..%2F..%2Fetc/stats', undefined],
    ['POST', '/servers/echo1/files/rename', { from: '/a' }],
  ];
  for (const [method, path, body] of cases) {
    const r = await ctx.api.request(method, ctx.base + path, body);
    assert.ok(r.status === 400 || r.status === 404, `${method} ${path}: ${r.status} ${JSON.stringify(r.body)}`);
    assert.ok(r.body?.error?.message, `${method} ${path} has a message`);
  }
  const garbage = await ctx.api.request('PUT', `${ctx.base}/servers`, '{not json', { 'content-type': 'application/json' });
  assert.is(garbage.status, 400);
});

t('CLI: containers, container stop/start/logs/stats, cp both ways', async (ctx) => {
  if (skip(ctx)) return;
  const ls = await cli(ctx.config, ['containers', ctx.agent.deviceId]);
  assert.is(ls.code, 0, ls.stderr);
  assert.match(ls.stdout, /echo1/);
  assert.match(ls.stdout, /declared:echo1/);
  const stop = await cli(ctx.config, ['container', ctx.agent.deviceId, 'stop', 'echo1', '--timeout', '2']);
  assert.is(stop.code, 0, stop.stderr);
  assert.match(stop.stdout, /echo1: offline/);
  const start = await cli(ctx.config, ['container', ctx.agent.deviceId, 'start', 'echo1']);
  assert.match(start.stdout, /echo1: running/);
  const logs = await cli(ctx.config, ['container', ctx.agent.deviceId, 'logs', 'echo1', '--tail', '5']);
  assert.match(logs.stdout, /started/);
  const stats = await cli(ctx.config, ['container', ctx.agent.deviceId, 'stats', 'echo1', '--json']);
  assert.is(JSON.parse(stats.stdout).state, 'running');
  const dir = await mkdtemp(join(tmpdir(), 'edgehook-cp-'));
  await writeFile(join(dir, 'up.txt'), 'uploaded by cp\n');
  const up = await cli(ctx.config, ['cp', join(dir, 'up.txt'), `${ctx.agent.deviceId}:echo1:/up.txt`]);
  assert.is(up.code, 0, up.stderr);
  const down = await cli(ctx.config, ['cp', `${ctx.agent.deviceId}:echo1:/up.txt`, join(dir, 'down.txt')]);
  assert.is(down.code, 0, down.stderr);
  assert.is(await readFile(join(dir, 'down.txt'), 'utf8'), 'uploaded by cp\n');
  const bad = await cli(ctx.config, ['container', ctx.agent.deviceId, 'explode', 'echo1']);
  assert.is(bad.code, 2);
  assert.match(bad.stderr, /unknown action/);
  const escape = await cli(ctx.config, ['cp', `${ctx.agent.deviceId}:echo1:../../etc/passwd`, join(dir, 'x')]);
  assert.is(escape.code, 1);
  await cleanup(dir);
});

t('removing a server from the declared set removes its container', async (ctx) => {
  if (skip(ctx)) return;
  const put = await ctx.api.request('PUT', `${ctx.base}/servers`, { servers: [] });
  assert.equal(put.body.apply.steps.map((s: any) => s.step.action), ['remove']);
  const list = await ctx.api.request('GET', `${ctx.base}/containers`);
  assert.not.ok(list.body.some((c: any) => c.name === 'echo1'));
});

t('CLI: a server whose image the engine pulls from a registry prints the pull progress, then runs', async (ctx) => {
  if (skip(ctx) || !ctx.engine?.registry) return;
  const image = ctx.engine.registry.image;
  const created = await cli(ctx.config, ['server', 'create', ctx.agent.deviceId, 'pulled', '--image', image, '--', 'sh', '-c', 'echo from-the-registry; while read l; do :; done']);
  assert.is(created.code, 0, created.stderr + created.stdout);
  const esc = image.replace(/[.:/]/g, (c) => `\\${c}`);
  // Two layers (Podman's config blob is not counted); bytes only as Podman sizes them (once a second).
  assert.match(created.stdout, new RegExp(`pulling ${esc}: [0-2]/2 layers, \\d+\\.\\d/\\d+\\.\\d MB\\n`));
  assert.match(created.stdout, new RegExp(`pulled ${esc}: 2/2 layers, (\\d+\\.\\d)/\\1 MB\\n(.|\\n)*server pulled created`));
  await waitFor('the pulled image runs', async () => {
    const logs = await ctx.api.request('GET', `${ctx.base}/containers/pulled/logs?tail=10`);
    return logs.body.lines?.some((l: { line: string }) => l.line.includes('from-the-registry'));
  }, 20_000);
  assert.is((await cli(ctx.config, ['server', 'rm', ctx.agent.deviceId, 'pulled'])).code, 0);
});

t.run();
