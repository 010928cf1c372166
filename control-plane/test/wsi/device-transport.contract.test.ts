import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { adminApi, cleanup, killAllAgents, repoRoot, startTestControlPlane, tempDir, waitFor, type Api, type TestControlPlane } from '../helpers/harness.js';
import { execAgent } from '../remote-exec/fixtures.js';

/**
 * One contract over both device transports (devices/device-transport.ts): the same REST calls on a
 * real agent (MQTT) and on the example Quix WSI backend (a real process on /wsi) give the same
 * shapes and the same answers, so operators cannot tell them apart through processes and telemetry.
 */
const PASSWORD = 'bright01-quix';
const t = suite<{ cp: TestControlPlane; api: Api; dir: string; devices: Array<{ kind: string; id: string }>; backend: ChildProcess }>('device transport contract: mqtt agent and wsi backend');
t.before(async (ctx) => {
  ctx.cp = await startTestControlPlane({ wsi: { telemetryEveryMs: 0 } });
  ctx.api = await adminApi(ctx.cp);
  ctx.dir = await tempDir('edgehook-wsi-contract-');
  assert.is((await ctx.api.request('POST', '/api/roles', { name: 'backends', permissions: ['devices.backend'] })).status, 201);
  assert.is((await ctx.api.request('POST', '/api/users', { username: 'quix1', password: PASSWORD, roleName: 'backends' })).status, 201);
  const agent = await execAgent(ctx.cp, ctx.api);
  ctx.backend = spawn(process.execPath, [join(repoRoot, 'examples/edgehook-wsi-backend/backend.mjs'), '--server', `${ctx.cp.url.replace(/^http/, 'ws')}/wsi`, '--username', 'quix1', '--state', join(ctx.dir, 'token.json')], {
    stdio: 'ignore',
    env: { ...process.env, EDGEHOOK_WSI_PASSWORD: PASSWORD },
  });
  const wsi = await waitFor('the backend online', async () => ((await ctx.api.request('GET', '/api/devices?tag=wsi')).body as any[]).find((d) => d.online), 15_000);
  ctx.devices = [{ kind: 'mqtt', id: agent.deviceId }, { kind: 'wsi', id: wsi.id }];
});
t.after(async (ctx) => {
  ctx.backend?.kill('SIGKILL');
  await killAllAgents();
  await ctx.cp.close();
  await cleanup(ctx.cp.dataDir, ctx.dir);
});

t('listed as fleet devices with their transport', async ({ api, devices }) => {
  for (const d of devices) {
    const view = (await api.request('GET', `/api/devices/${d.id}`)).body;
    assert.equal([view.transport, view.online], [d.kind, true], d.kind);
    assert.is((await api.request('POST', `/api/devices/${d.id}/ping`)).status, 200, d.kind);
  }
});

t('execute, view_running, proc_signal: same shapes, same refusals', async ({ api, devices }) => {
  for (const d of devices) {
    const base = `/api/devices/${d.id}/processes`;
    const started = await api.request('POST', base, { cmd: ['sleep', '30'] });
    assert.is(started.status, 201, `${d.kind}: ${JSON.stringify(started.body)}`);
    assert.equal([started.body.result, typeof started.body.proc_id, typeof started.body.id], ['success', 'number', 'string'], d.kind);
    const pid = started.body.proc_id as number;
    const mine = await waitFor(`${d.kind}: listed`, async () => ((await api.request('GET', base)).body as any[]).find((p) => p.pid === pid));
    assert.equal([mine.reqc, mine.kind, typeof mine.mem_util, Array.isArray(mine.port_util)], ['sleep 30', 'arbitrary', 'number', true], d.kind);
    assert.is((await api.request('POST', `${base}/signal`, { pid: 1, mode: 'SIGKILL' })).status, 403, `${d.kind}: foreign pid`);
    assert.equal((await api.request('POST', `${base}/signal`, { pid, mode: 'SIGTERM' })).body, { result: 'success' }, d.kind);
    await waitFor(`${d.kind}: gone`, async () => !((await api.request('GET', base)).body as any[]).some((p) => p.pid === pid));
  }
});

t('telemetry: the Quix snapshot, then queryable under the same metric names', async ({ api, devices }) => {
  for (const d of devices) {
    const snap = await api.request('POST', `/api/devices/${d.id}/telemetry/snapshot`, { stat_types: ['ttl_cpu_usage', 'ttl_mem_usage', 'disk_util'] });
    assert.is(snap.status, 200, d.kind);
    const tele = snap.body.tele_data;
    assert.ok(tele.ttl_cpu_usage.length > 0 && tele.ttl_cpu_usage.every((u: number) => u >= 0 && u <= 1), d.kind);
    assert.is(tele.ttl_mem_usage.length, 3, d.kind);
    assert.ok(Object.values(tele.disk_util).length > 0, d.kind);
    // The agent's own collectors and the WSI snapshot feed the same series.
    await waitFor(`${d.kind}: mem.used stored`, async () => {
      const q = await api.request('GET', `/api/devices/${d.id}/telemetry?metric=mem.used&from=-2m&step=10s&agg=last`);
      return q.status === 200 && q.body.series[0].points.some(([, v]: [number, number | null]) => v !== null && v > 0);
    }, 20_000);
  }
});

t.run();
