// The container chain with the agent's simulated engine (runs everywhere, no Podman needed), and an
// agent whose engine socket has nothing behind it: clear errors, and the agent keeps working.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { adminApi, cleanup, killAllAgents, spawnAgent, startTestControlPlane, waitFor, type AgentProcess, type Api, type TestControlPlane } from '../helpers/harness.js';
import { containerAgent, wingsConsole } from './fixtures.js';

interface Ctx {
  cp: TestControlPlane;
  api: Api;
  sim: AgentProcess & { deviceId: string };
  down: AgentProcess & { deviceId: string };
}
const t = suite<Ctx>('containers: simulated engine and an engine that is down');

t.before(async (ctx) => {
  ctx.cp = await startTestControlPlane();
  ctx.api = await adminApi(ctx.cp);
  ctx.sim = await containerAgent(ctx.cp, ctx.api, 'simulated', 'sim-engine');
  ctx.down = await containerAgent(ctx.cp, ctx.api, { socket: `/tmp/edgehook-no-engine-${process.pid}.sock` }, 'no-engine');
});
t.after(async (ctx) => {
  await killAllAgents();
  await ctx.cp.close();
  await cleanup(ctx.cp.dataDir);
});

t('declared server on the simulated engine: created, running, console round trip, stop', async (ctx) => {
  const base = `/api/devices/${ctx.sim.deviceId}`;
  const put = await ctx.api.request('PUT', `${base}/servers`, { servers: [{ name: 'sim1', image: 'sim/echo' }] });
  assert.is(put.status, 200, JSON.stringify(put.body));
  assert.ok(put.body.apply.ok, JSON.stringify(put.body.apply));
  const c = await wingsConsole(ctx.cp, ctx.api, ctx.sim.deviceId, 'sim1');
  await c.next('status', (a) => a[0] === 'running');
  c.send('send command', 'ping sim');
  await c.next('console output', (a) => (a[0] ?? '').includes('ping sim'));
  await c.next('stats', (a) => JSON.parse(a[0] ?? '{}').state === 'running');
  c.send('set state', 'stop');
  await c.next('status', (a) => a[0] === 'offline');
  c.ws.close();
  const info = await ctx.api.request('GET', `${base}/containers/sim1`);
  assert.is(info.body.power, 'offline');
});

t('events sent right behind auth wait for it: a command in the same breath reaches the console', async (ctx) => {
  // The test above left it stopped.
  const started = await ctx.api.request('POST', `/api/devices/${ctx.sim.deviceId}/containers/sim1/power`, { action: 'start' });
  assert.is(started.body.power, 'running');
  const token = await ctx.api.request('GET', `/api/devices/${ctx.sim.deviceId}/containers/sim1/websocket`);
  const c = await wingsConsole(ctx.cp, ctx.api, ctx.sim.deviceId, 'sim1', { auth: false });
  c.send('auth', token.body.data.token);
  c.send('send command', 'no waiting');
  await c.next('auth success');
  await c.next('console output', (a) => (a[0] ?? '').includes('no waiting'));
  c.send('send command', 'x'.repeat(70_000));
  assert.match((await c.next('daemon error'))[0] ?? '', /bad frame/);
  c.ws.close();
});

t('a declared set stored while the device is offline is applied when it reconnects', async (ctx) => {
  const base = `/api/devices/${ctx.sim.deviceId}`;
  await ctx.sim.stop();
  await waitFor('offline', async () => (await ctx.api.request('GET', base)).body.online === false);
  const put = await ctx.api.request('PUT', `${base}/servers`, { servers: [{ name: 'sim1', image: 'sim/echo' }, { name: 'sim2', image: 'sim/echo', desired: 'stopped' }] });
  assert.is(put.status, 202);
  assert.match(put.body.pending, /offline/);
  ctx.sim = Object.assign(await restart(ctx.sim), { deviceId: ctx.sim.deviceId });
  const applied = await waitFor('applied on reconnect', async () => {
    const s = await ctx.api.request('GET', `${base}/servers`);
    return s.body.lastApply?.revision === s.body.revision ? s.body : undefined;
  }, 20_000);
  assert.ok(applied.lastApply.result.ok, JSON.stringify(applied.lastApply));
  const list = await ctx.api.request('GET', `${base}/containers`);
  const byName = Object.fromEntries(list.body.map((x: any) => [x.name, x.power]));
  assert.is(byName['sim1'], 'running');
  assert.is(byName['sim2'], 'offline');
});

async function restart(agent: AgentProcess): Promise<AgentProcess> {
  // Same state dir: the saved credentials, no enrollment; the same engine flag.
  return spawnAgent({ stateDir: agent.stateDir, extraArgs: ['--container-engine', 'simulated'] });
}

t('no engine behind the socket: clear 503 naming the socket, and the agent keeps answering', async (ctx) => {
  const base = `/api/devices/${ctx.down.deviceId}`;
  for (const path of ['/engine', '/containers', '/containers/x/stats']) {
    const r = await ctx.api.request('GET', base + path);
    assert.is(r.status, 503, `${path}: ${JSON.stringify(r.body)}`);
    assert.is(r.body.error.code, 'ENGINE_UNAVAILABLE');
    assert.match(r.body.error.message, /no-engine|socket/);
  }
  const put = await ctx.api.request('PUT', `${base}/servers`, { servers: [{ name: 'x1', image: 'busybox' }] });
  assert.is(put.status, 503, JSON.stringify(put.body));
  const ping = await ctx.api.request('POST', `${base}/ping`);
  assert.is(ping.status, 200);
  assert.is(ctx.down.child.exitCode, null);
});

t.run();
