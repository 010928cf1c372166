import { createRequire } from 'node:module';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { adminApi, cleanup, enrolledAgent, killAllAgents, spawnAgent, startTestControlPlane, createEnrollmentToken, tempDir, waitFor, type Api, type TestControlPlane } from '../helpers/harness.js';

const require = createRequire(import.meta.url);
const Database = require('better-sqlite3') as typeof import('better-sqlite3');

const t = suite<{ cps: TestControlPlane[] }>('telemetry store-and-forward');
t.before((ctx) => {
  ctx.cps = [];
});
t.after(async (ctx) => {
  await killAllAgents();
  for (const cp of ctx.cps) await cp.close().catch(() => undefined);
  for (const cp of ctx.cps) await cleanup(cp.dataDir);
});

/** Batches the store holds for a device, read straight from the SQLite file. */
function storedBatches(cp: TestControlPlane, deviceId: string): Array<{ seq: number; ts: number; samples: number }> {
  const db = new Database(join(cp.dataDir, 'edgehook.db'), { readonly: true });
  try {
    return db
      .prepare('select b.seq as seq, b.ts as ts, b.samples as samples from telemetry_batches b join telemetry_devices d on d.key = b.device_key where d.device_id = ? order by b.seq')
      .all(deviceId) as Array<{ seq: number; ts: number; samples: number }>;
  } finally {
    db.close();
  }
}

t('a real agent keeps sampling through a control-plane outage; every batch arrives once, in order', async (ctx) => {
  const cp = await startTestControlPlane();
  ctx.cps.push(cp);
  const api: Api = await adminApi(cp);
  const token = await createEnrollmentToken(api);
  const stateDir = await tempDir('edgehook-agent-');
  const agent = spawnAgent({ server: cp.url, token, stateDir, hostname: 'outage', extraArgs: ['--telemetry-interval', '1s', '--telemetry-port', 'off', '--telemetry-replay-rate', '50'] });
  const deviceId = await waitFor('enrollment', async () => /"deviceId":"([^"]+)"/.exec(agent.output())?.[1], 15_000);
  await waitFor('first batches', async () => ((await api.request('GET', `/api/devices/${deviceId}/telemetry/metrics`)).body?.metrics?.length ?? 0) > 3, 15_000);
  const before = storedBatches(cp, deviceId).length;

  // Outage: the control plane and its broker go away; the agent keeps collecting into its buffer.
  await cp.close();
  const downAt = Date.now();
  await new Promise((r) => setTimeout(r, 4500));
  const upAt = Date.now();
  const restarted = await startTestControlPlane({ dataDir: cp.dataDir, args: ['--port', String(cp.port), '--mqtt-port', String(cp.mqttPort)] });
  ctx.cps.push(restarted);
  await agent.waitForOutput(/replayed buffered telemetry/, 30_000);
  const api2 = await adminApi(restarted);
  // Live data flows again after the replay.
  const afterReplay = storedBatches(restarted, deviceId).length;
  await waitFor('live batches after the replay', () => storedBatches(restarted, deviceId).length >= afterReplay + 2, 10_000);

  const batches = storedBatches(restarted, deviceId);
  // Batches collected while nothing was listening (1 s interval, 4.5 s outage) were buffered and replayed.
  const duringOutage = batches.filter((b) => b.ts >= downAt && b.ts <= upAt).length;
  assert.ok(duringOutage >= 2, `expected the outage's batches too: ${duringOutage} collected during the outage (${before} before, ${batches.length} in all)`);
  // Every sequence number once, none missing: nothing lost, nothing duplicated.
  const first = batches[0]?.seq ?? 0;
  assert.equal(batches.map((b) => b.seq), batches.map((_, i) => first + i));
  // Device time follows the sequence: the replay kept the order of collection.
  for (let i = 1; i < batches.length; i++) assert.ok((batches[i]?.ts ?? 0) > (batches[i - 1]?.ts ?? 0), `ts order at seq ${batches[i]?.seq}`);
  // The outage left no hole in the series: one uptime sample per batch that carried one.
  const from = batches[0]?.ts ?? 0;
  const to = (batches.at(-1)?.ts ?? 0) + 1;
  const res = await api2.request('GET', `/api/devices/${deviceId}/telemetry?metric=uptime.seconds&from=${from}&to=${to}&step=10s&agg=count`);
  assert.is(res.status, 200, JSON.stringify(res.body));
  const count = res.body.series[0].points.reduce((n: number, p: [number, number | null]) => n + (p[1] ?? 0), 0);
  assert.is(count, batches.length);
  await agent.stop();
});

t('the agent buffer respects its size limit on disk and reports what it dropped', async (ctx) => {
  const cp = await startTestControlPlane();
  ctx.cps.push(cp);
  const api = await adminApi(cp);
  const agent = await enrolledAgent(cp, api, { hostname: 'tiny-buffer' });
  await agent.stop();
  // Restart the same agent with a tiny buffer, offline (the control plane is down).
  const { port, mqttPort, dataDir } = cp;
  await cp.close();
  const small = spawnAgent({ stateDir: agent.stateDir, extraArgs: ['--telemetry-interval', '1s', '--telemetry-port', 'off', '--telemetry-buffer-mb', '0.01'] });
  const { readdir, readFile, stat } = await import('node:fs/promises');
  const spoolDir = join(agent.stateDir, 'telemetry-spool');
  const limit = 0.01 * 1024 * 1024;
  // Watch the buffer's size on disk until the agent has recorded drops in its state file (the
  // condition, not a time: under load the first drop may take a while), plus a few rounds after.
  let maxSeen = 0;
  let afterDrops = 0;
  const readState = async (): Promise<any> => JSON.parse(await readFile(join(spoolDir, 'state.json'), 'utf8'));
  await waitFor(
    'the agent to drop old batches and record it in state.json',
    async () => {
      const files = (await readdir(spoolDir).catch(() => [] as string[])).filter((f) => f.startsWith('seg-'));
      let total = 0;
      for (const f of files) total += (await stat(join(spoolDir, f)).catch(() => ({ size: 0 }))).size;
      maxSeen = Math.max(maxSeen, total);
      const state = await readState().catch(() => undefined);
      if ((state?.dropped?.batches ?? 0) > 0) afterDrops++;
      return afterDrops >= 5;
    },
    60_000,
    200,
  );
  assert.ok(maxSeen > 0, 'the agent buffered while offline');
  // Slack of one batch: the oldest segment is dropped right after the append that passes the limit.
  assert.ok(maxSeen <= limit + 8192, `buffer on disk ${maxSeen} bytes, limit ${limit}`);
  assert.ok((await readState()).dropped.batches > 0, 'drops are counted');

  const back = await startTestControlPlane({ dataDir, args: ['--port', String(port), '--mqtt-port', String(mqttPort)] });
  ctx.cps.push(back);
  const api2 = await adminApi(back);
  const reported = await waitFor(
    'drops reported',
    async () => {
      const r = await api2.request('GET', `/api/telemetry/latest?metric=agent.telemetry.dropped_batches`);
      return r.body.entries?.find((e: any) => e.deviceId === agent.deviceId);
    },
    20_000,
  );
  assert.ok(reported.value > 0);
  await small.stop();
});

t.run();
