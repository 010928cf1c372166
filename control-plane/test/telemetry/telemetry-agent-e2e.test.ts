import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import WebSocket from 'ws';
import { adminApi, cleanup, createEnrollmentToken, killAllAgents, login, spawnAgent, startTestControlPlane, tempDir, waitFor, type Api, type TestControlPlane } from '../helpers/harness.js';

const t = suite<{ cp: TestControlPlane; api: Api }>('telemetry with a real agent');
t.before(async (ctx) => {
  ctx.cp = await startTestControlPlane();
  ctx.api = await adminApi(ctx.cp);
});
t.after(async (ctx) => {
  await killAllAgents();
  await ctx.cp.close();
  await cleanup(ctx.cp.dataDir);
});

t('collectors, the Quix snapshot, a pushed trace and the live socket, end to end', async ({ cp, api }) => {
  const token = await createEnrollmentToken(api);
  const agent = spawnAgent({ server: cp.url, token, stateDir: await tempDir('edgehook-agent-'), hostname: 'e2e', profile: 'generic-linux', extraArgs: ['--telemetry-interval', '1s', '--telemetry-port', '0'] });
  const deviceId = await waitFor('enrollment', async () => /"deviceId":"([^"]+)"/.exec(agent.output())?.[1], 15_000);
  const metrics = await waitFor(
    'collector metrics',
    async () => {
      const r = await api.request('GET', `/api/devices/${deviceId}/telemetry/metrics`);
      const names: string[] = r.body?.metrics?.map((m: { metric: string }) => m.metric) ?? [];
      return names.includes('cpu.usage') ? names : undefined;
    },
    15_000,
  );
  for (const m of ['cpu.usage', 'cpu.core.usage', 'mem.used', 'mem.buff_cache', 'mem.free', 'load.1', 'uptime.seconds', 'net.rx_bytes']) assert.ok(metrics.includes(m), `${m} in ${metrics.join(',')}`);

  const snap = await api.request('POST', `/api/devices/${deviceId}/telemetry/snapshot`, { stat_types: ['ttl_cpu_usage', 'ttl_mem_usage', 'disk_util', 'vpn_status'] });
  assert.is(snap.status, 200, JSON.stringify(snap.body));
  assert.ok(Array.isArray(snap.body.tele_data.ttl_cpu_usage));
  assert.is(snap.body.tele_data.ttl_mem_usage.length, 3);
  assert.type(snap.body.tele_data.disk_util, 'object');
  assert.is((await api.request('POST', `/api/devices/${deviceId}/telemetry/snapshot`, { stat_types: ['gpu'] })).status, 400);

  const ws = new WebSocket(`${cp.url.replace('http', 'ws')}/api/telemetry/live?device=${deviceId}&metric=trace.*`, { headers: { authorization: `Bearer ${(await login(cp.url)).accessToken}` } });
  const frames: any[] = [];
  ws.on('message', (d) => frames.push(JSON.parse(d.toString())));
  await waitFor('live hello', () => frames.some((f) => f.type === 'hello'));

  const url = await waitFor('local endpoint', () => /"url":"(http:\/\/127\.0\.0\.1:\d+\/v1\/traces)"/.exec(agent.output())?.[1]);
  const pushed = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ group: 'app', samples: [{ name: 'requests', value: 7 }] }) });
  assert.is(pushed.status, 202);
  const frame = await waitFor('trace on the live socket', () => frames.find((f) => f.type === 'samples'), 5000);
  assert.equal(frame.samples.map((s: { m: string; v: number }) => [s.m, s.v]), [['trace.app.requests', 7]]);
  const groups = await api.request('GET', `/api/devices/${deviceId}/traces`);
  assert.equal(groups.body.groups.map((g: { group: string }) => g.group), ['app']);
  ws.close();
  await agent.stop();
});

t.run();
