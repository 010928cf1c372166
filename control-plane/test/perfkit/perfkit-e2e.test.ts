import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { adminApi, cleanup, createEnrollmentToken, killAllAgents, spawnAgent, startTestControlPlane, tempDir, waitFor, type AgentProcess, type Api, type TestControlPlane } from '../helpers/harness.js';

const PROGRAM = fileURLToPath(new URL('./fixtures/perfkit-program.mjs', import.meta.url));

interface Ctx {
  cp: TestControlPlane;
  api: Api;
  agent: AgentProcess;
  deviceId: string;
  stateDir: string;
  program: ChildProcess;
  lines: () => any[];
}
const t = suite<Ctx>('perfkit sessions, configs and images with a real agent and program');

const agentArgs = ['--telemetry-interval', '5s', '--telemetry-port', '0'];
async function localUrl(agent: AgentProcess): Promise<string> {
  return waitFor('the local endpoint', () => /local telemetry endpoint listening.*?"url":"(http:\/\/127\.0\.0\.1:\d+)\/v1\/traces"/.exec(agent.output())?.[1], 15_000);
}

t.before(async (ctx) => {
  ctx.cp = await startTestControlPlane();
  ctx.api = await adminApi(ctx.cp);
  ctx.stateDir = await tempDir('edgehook-agent-');
  ctx.agent = spawnAgent({ server: ctx.cp.url, token: await createEnrollmentToken(ctx.api), stateDir: ctx.stateDir, hostname: 'perfkit', extraArgs: agentArgs });
  ctx.deviceId = await waitFor('enrollment', async () => /"deviceId":"([^"]+)"/.exec(ctx.agent.output())?.[1], 15_000);
  await waitFor('online', async () => (await ctx.api.request('GET', `/api/devices/${ctx.deviceId}`)).body?.online === true, 15_000);
  const program = spawn(process.execPath, [PROGRAM], { env: { ...process.env, EDGEHOOK_LOCAL: await localUrl(ctx.agent), SESSION_NAME: 'demo' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  program.stdout?.on('data', (d) => (out += d));
  program.stderr?.on('data', (d) => (out += d));
  ctx.program = program;
  ctx.lines = () => out.split('\n').filter(Boolean).map((l) => { try { return JSON.parse(l); } catch { return { raw: l }; } });
});
t.after(async (ctx) => {
  ctx.program?.kill('SIGKILL');
  await killAllAgents();
  await ctx.cp.close();
  await cleanup(ctx.cp.dataDir, ctx.stateDir);
});

t('session browse: the program registered over the local endpoint is listed live with its traces and images', async ({ api, deviceId, program }) => {
  const s = await waitFor('the session', async () => {
    const r = await api.request('GET', `/api/devices/${deviceId}/sessions`);
    return r.body?.sessions?.find((x: any) => x.name === 'demo' && x.images.length > 0 && x.traceGroups.length > 0);
  }, 15_000);
  assert.is(s.pid, program.pid);
  assert.is(s.endedAt, null);
  assert.is(s.description, 'the perfkit test program');
  assert.type(s.machine, 'string');
  assert.equal(s.traceGroups, ['frames']);
  assert.equal(s.images[0].name, 'view');
  assert.equal([s.images[0].width, s.images[0].height], [320, 200]);
  const traces = await waitFor('the trace group', async () => (await api.request('GET', `/api/devices/${deviceId}/traces`)).body?.groups?.find((g: any) => g.group === 'frames'), 15_000);
  assert.ok(traces.series.includes('render_ms'));
  // The session lists its traces with their series, as the telemetry store has them.
  const listed = (await api.request('GET', `/api/devices/${deviceId}/sessions`)).body.sessions.find((x: any) => x.id === s.id);
  assert.equal(listed.traces.map((t: any) => [t.group, t.series]), [['frames', ['render_ms']]]);
  assert.type(listed.traces[0].lastTs, 'number');
});

t('configs: browse, modify, the program applies and reports, versions refuse stale edits with 409', async ({ api, deviceId, lines }) => {
  const view = await waitFor('declared configs', async () => {
    const r = await api.request('GET', `/api/devices/${deviceId}/configs`);
    return r.body?.scopes?.some((s: any) => s.scope === 'demo') && r.body?.scopes?.some((s: any) => s.scope === 'agent') ? r.body : undefined;
  }, 15_000);
  const demo = view.scopes.find((s: any) => s.scope === 'demo');
  assert.is(demo.live, true);
  const fps = demo.entries.find((e: any) => e.key === 'render.fps');
  assert.equal({ type: fps.type, default: fps.default, min: fps.min, max: fps.max, desired: fps.desired, inSync: fps.inSync }, { type: 'int', default: 30, min: 1, max: 240, desired: null, inSync: true });

  const set = await api.request('PUT', `/api/devices/${deviceId}/configs/demo/render.fps`, { value: 60, version: 0 });
  assert.is(set.status, 200, JSON.stringify(set.body));
  assert.equal(set.body, { scope: 'demo', key: 'render.fps', value: 60, version: 1, seq: 1 });
  await waitFor('the program applied fps=60', () => lines().some((l) => l.applied?.some((e: any) => e.key === 'render.fps' && e.value === 60 && e.version === 1)), 15_000);
  const synced = await waitFor('reported fps', async () => {
    const r = await api.request('GET', `/api/devices/${deviceId}/configs`);
    const e = r.body.scopes.find((s: any) => s.scope === 'demo').entries.find((x: any) => x.key === 'render.fps');
    return e.reported?.version === 1 ? e : undefined;
  }, 15_000);
  assert.equal({ desired: synced.desired, reported: synced.reported, inSync: synced.inSync }, { desired: { value: 60, version: 1 }, reported: { value: 60, version: 1 }, inSync: true });

  const stale = await api.request('PUT', `/api/devices/${deviceId}/configs/demo/render.fps`, { value: 90, version: 0 });
  assert.is(stale.status, 409);
  assert.is(stale.body.error.code, 'CONFLICT');
  assert.match(stale.body.error.message, /at version 1, not 0/);
  assert.is((await api.request('PUT', `/api/devices/${deviceId}/configs/demo/render.fps`, { value: 90, version: 1 })).body.version, 2);
  const audit = await waitFor('audit entries', async () => {
    const r = await api.request('GET', '/api/audit?action=perfkit.*');
    return r.body?.entries?.length >= 3 ? r.body.entries : undefined;
  }, 10_000);
  assert.ok(audit.some((e: any) => e.target === 'demo/render.fps' && e.status === 409), 'the refused edit is recorded with its 409');
  assert.ok(audit.some((e: any) => e.target === 'demo/render.fps' && e.status === 200), 'the accepted edit is recorded');
  assert.ok(audit.every((e: any) => e.action === 'perfkit.config.set' && e.deviceId === deviceId), JSON.stringify(audit.slice(0, 3)));
});

t('patches since a sequence number are exact and ordered', async ({ api, deviceId }) => {
  for (const [key, value] of [['render.mode', 'pretty'], ['render.debug', true], ['render.scale', 2.5], ['render.title', 'edge'], ['render.mode', 'fast']] as const) {
    const r = await api.request('PUT', `/api/devices/${deviceId}/configs/demo/${key}`, { value });
    assert.is(r.status, 200, JSON.stringify(r.body));
  }
  const all = await api.request('GET', `/api/devices/${deviceId}/configs/patches?since=0`);
  assert.is(all.status, 200);
  assert.is(all.body.seq, 7);
  assert.equal(all.body.patches.map((p: any) => [p.seq, p.key, p.value, p.version]), [
    [1, 'render.fps', 60, 1],
    [2, 'render.fps', 90, 2],
    [3, 'render.mode', 'pretty', 1],
    [4, 'render.debug', true, 1],
    [5, 'render.scale', 2.5, 1],
    [6, 'render.title', 'edge', 1],
    [7, 'render.mode', 'fast', 2],
  ]);
  assert.ok(all.body.patches.every((p: any) => p.scope === 'demo' && p.by === 'admin'));
  const since4 = await api.request('GET', `/api/devices/${deviceId}/configs/patches?since=4`);
  assert.equal(since4.body.patches.map((p: any) => p.seq), [5, 6, 7]);
  assert.is(since4.body.more, false);
  const page = await api.request('GET', `/api/devices/${deviceId}/configs/patches?since=1&limit=2`);
  assert.equal([page.body.patches.map((p: any) => p.seq), page.body.more], [[2, 3], true]);
  assert.equal((await api.request('GET', `/api/devices/${deviceId}/configs/patches?since=7`)).body.patches, []);
});

t('bad input at the REST API gives clear 400s (and 404 for what was never declared)', async ({ api, deviceId }) => {
  const cases: Array<[string, string, unknown, number, RegExp]> = [
    ['GET', `/api/devices/${deviceId}/configs/patches?since=-1`, undefined, 400, /since must be 0 or more/],
    ['GET', `/api/devices/${deviceId}/configs/patches?since=abc`, undefined, 400, /since must be a sequence number/],
    ['PUT', `/api/devices/${deviceId}/configs/demo/render.fps`, { value: 'fast' }, 400, /demo\/render\.fps must be a number/],
    ['PUT', `/api/devices/${deviceId}/configs/demo/render.fps`, { value: 1000 }, 400, /at most 240/],
    ['PUT', `/api/devices/${deviceId}/configs/demo/render.mode`, { value: 'ugly' }, 400, /one of fast, pretty/],
    ['PUT', `/api/devices/${deviceId}/configs/demo/render.fps`, { value: 60, extra: 1 }, 400, /invalid request body.*extra/],
    ['PUT', `/api/devices/${deviceId}/configs/demo/fps`, { value: 60 }, 400, /config key/],
    ['PUT', `/api/devices/${deviceId}/configs/demo/render.nope`, { value: 60 }, 404, /no entry render\.nope/],
    ['PUT', `/api/devices/${deviceId}/configs/ghost/render.fps`, { value: 60 }, 404, /declared no config ghost/],
    ['GET', `/api/devices/${deviceId}/sessions/bad!id/images/view`, undefined, 400, /session id/],
    ['GET', `/api/devices/${deviceId}/sessions/abc/images/view?seq=0`, undefined, 400, /seq must be 1 or more/],
    ['POST', `/api/devices/${deviceId}/sessions/abc/images/view/interactions`, { events: [{ type: 'mouse', action: 'click', x: -1, y: 2 }] }, 400, /x/],
    ['POST', `/api/devices/${deviceId}/sessions/abc/images/view/interactions`, { events: [] }, 400, /events/],
  ];
  for (const [method, path, body, status, message] of cases) {
    const r = await api.request(method, path, body);
    assert.is(r.status, status, `${method} ${path}: ${JSON.stringify(r.body)}`);
    assert.match(r.body.error.message, message, `${method} ${path}: ${r.body.error.message}`);
  }
});

t("interactive images: the latest JPEG through the frame path, interactions reach the session with their coordinates", async ({ cp, api, deviceId, lines }) => {
  const sid = (await api.request('GET', `/api/devices/${deviceId}/sessions`)).body.sessions.find((s: any) => s.name === 'demo' && s.endedAt === null).id;
  const get = (q = '') => fetch(`${cp.url}/api/devices/${deviceId}/sessions/${sid}/images/view${q}`, { headers: { authorization: `Bearer ${api.token}` } });
  const first = await get();
  assert.is(first.status, 200, await first.clone().text());
  assert.is(first.headers.get('content-type'), 'image/jpeg');
  assert.is(first.headers.get('x-perfkit-seq'), '1');
  assert.is(first.headers.get('x-perfkit-cache'), 'miss');
  const bytes = Buffer.from(await first.arrayBuffer());
  assert.equal([bytes[0], bytes[1], bytes.at(-2), bytes.at(-1)], [0xff, 0xd8, 0xff, 0xd9]);

  const post = await api.request('POST', `/api/devices/${deviceId}/sessions/${sid}/images/view/interactions`, { events: [{ type: 'mouse', action: 'click', x: 101, y: 57, button: 'left' }, { type: 'key', key: 'Enter', down: true, modifiers: ['ctrl'] }, { type: 'mouse', action: 'wheel', x: 3, y: 4, delta: -120 }] });
  assert.is(post.status, 200, JSON.stringify(post.body));
  assert.equal(post.body, { accepted: 3, lastSeq: 3 });
  const got = await waitFor('interactions at the program', () => {
    const events = lines().filter((l) => l.interaction).map((l) => l.interaction);
    return events.length >= 3 ? events : undefined;
  }, 15_000);
  assert.equal(got.map((e: any) => [e.seq, e.image, e.event]), [
    [1, 'view', { type: 'mouse', action: 'click', x: 101, y: 57, button: 'left' }],
    [2, 'view', { type: 'key', key: 'Enter', down: true, modifiers: ['ctrl'] }],
    [3, 'view', { type: 'mouse', action: 'wheel', x: 3, y: 4, delta: -120 }],
  ]);
  // The program rendered a new frame in answer.
  await waitFor('frame 2', async () => (await get()).headers.get('x-perfkit-seq') === '2', 15_000);
  const unknown = await api.request('POST', `/api/devices/${deviceId}/sessions/${sid}/images/nope/interactions`, { events: [{ type: 'key', key: 'a', down: true }] });
  assert.is(unknown.status, 404);
  assert.match(unknown.body.error.message, /no image nope/);
  const gone = await get('?seq=1');
  assert.is(gone.status, 200, 'frame 1 is still known here (the cache), though the device has only frame 2');
  assert.is(gone.headers.get('x-perfkit-cache'), 'hit');
});

t("an offline agent catches up on reconnect (its own settings), and known frames are answered from the cache without the device", async (ctx) => {
  const { cp, api, deviceId } = ctx;
  const sid = (await api.request('GET', `/api/devices/${deviceId}/sessions`)).body.sessions.find((s: any) => s.name === 'demo' && s.endedAt === null).id;
  ctx.program.kill('SIGTERM');
  await ctx.agent.stop();
  await waitFor('offline', async () => (await api.request('GET', `/api/devices/${deviceId}`)).body?.online === false, 15_000);
  // Edited while the device is offline: the declaration the store kept is the one checked.
  const agentView = (await api.request('GET', `/api/devices/${deviceId}/configs`)).body.scopes.find((s: any) => s.scope === 'agent');
  assert.is(agentView.live, false);
  const interval = agentView.entries.find((e: any) => e.key === 'telemetry.interval_s');
  assert.equal(interval.reported, { value: 5, version: 0 });
  const set = await api.request('PUT', `/api/devices/${deviceId}/configs/agent/telemetry.interval_s`, { value: 2, version: 0 });
  assert.is(set.status, 200, JSON.stringify(set.body));
  assert.is((await api.request('PUT', `/api/devices/${deviceId}/configs/agent/collectors.disk`, { value: 0 })).status, 200);
  // A session's config too: it belongs to the session's name, so the program's next run gets it.
  const fps = await api.request('PUT', `/api/devices/${deviceId}/configs/demo/render.fps`, { value: 144, version: 2 });
  assert.is(fps.status, 200, JSON.stringify(fps.body));

  const cached = await fetch(`${cp.url}/api/devices/${deviceId}/sessions/${sid}/images/view?seq=2`, { headers: { authorization: `Bearer ${api.token}` } });
  assert.is(cached.status, 200, 'a known frame is answered with the device offline');
  assert.is(cached.headers.get('x-perfkit-cache'), 'hit');
  const unknown = await fetch(`${cp.url}/api/devices/${deviceId}/sessions/${sid}/images/view?seq=9`, { headers: { authorization: `Bearer ${api.token}` } });
  assert.is(unknown.status, 503, 'an unknown frame needs the device');

  ctx.agent = spawnAgent({ stateDir: ctx.stateDir, extraArgs: agentArgs });
  const reported = await waitFor('the agent applied what was set while it was offline', async () => {
    const r = await api.request('GET', `/api/devices/${deviceId}/configs`);
    const scope = r.body.scopes.find((s: any) => s.scope === 'agent');
    const a = scope?.entries.find((e: any) => e.key === 'telemetry.interval_s');
    const d = scope?.entries.find((e: any) => e.key === 'collectors.disk');
    return a?.reported?.version === 1 && d?.reported?.version === 1 ? { a, d } : undefined;
  }, 20_000);
  assert.equal(reported.a.reported, { value: 2, version: 1 });
  assert.equal(reported.d.reported, { value: 0, version: 1 });
  assert.ok(/telemetry settings changed/.test(ctx.agent.output()));

  // The program starts again against the restarted agent: its declaration gets the value set while offline.
  const program = spawn(process.execPath, [PROGRAM], { env: { ...process.env, EDGEHOOK_LOCAL: await localUrl(ctx.agent), SESSION_NAME: 'demo' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  program.stdout?.on('data', (d) => (out += d));
  ctx.program = program;
  await waitFor('the program applied fps=144', () => /"applied":\[[^\]]*"key":"render\.fps","value":144,"version":3/.test(out), 20_000);
  await waitFor('reported fps=144', async () => {
    const r = await api.request('GET', `/api/devices/${deviceId}/configs`);
    const e = r.body.scopes.find((x: any) => x.scope === 'demo')?.entries.find((x: any) => x.key === 'render.fps');
    return e?.reported?.version === 3 && e.inSync;
  }, 20_000);
});

t.run();
