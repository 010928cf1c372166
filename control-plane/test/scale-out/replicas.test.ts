import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import mqtt from 'mqtt';
import { topicFor } from '@edgehook/shared';
import { adminApi, createEnrollmentToken, enrollRaw, jsonOf, killAllAgents, waitFor, type AgentProcess, type Api } from '../helpers/harness.js';
import { requireMosquitto, startMosquitto, type TestMosquitto } from '../helpers/mosquitto.js';
import { killAllReplicas, startReplica, throwawayPostgres, type Replica } from '../helpers/replicas.js';
import { execAgent, openSocket, wsUrl, type Recorded } from '../remote-exec/fixtures.js';

/**
 * Several real `edgehook serve` processes on one real Mosquitto (dynamic security) and one
 * throwaway PostgreSQL, with real agents: any replica serves any request, and losing one changes
 * nothing for the devices.
 */
interface Ctx {
  mosquitto: TestMosquitto;
  pg: { url: string; stop(): Promise<void> };
  a: Replica;
  b: Replica;
  c: Replica;
  apiA: Api;
  apiB: Api;
  apiC: Api;
  agent: AgentProcess & { deviceId: string };
}

const t = suite<Ctx>('several replicas on Mosquitto and PostgreSQL');
const found = requireMosquitto();
let skipped = !found;

t.before(async (ctx) => {
  if (!found) return;
  try {
    await setUp(ctx);
  } catch (err) {
    // uvu swallows a failing hook's error: say it.
    process.stderr.write(`set-up failed: ${err instanceof Error ? err.stack : String(err)}\n`);
    throw err;
  }
});

async function setUp(ctx: Ctx): Promise<void> {
  if (!found) return;
  const pg = await throwawayPostgres();
  if ('missing' in pg) {
    if (process.env['CI'] === 'true') throw new Error(`PostgreSQL is required in CI: ${pg.missing}`);
    skipped = true;
    return;
  }
  ctx.pg = pg;
  ctx.mosquitto = await startMosquitto(found);
  const opts = { brokerUrl: ctx.mosquitto.url, username: ctx.mosquitto.admin.username, password: ctx.mosquitto.admin.password, database: pg.url };
  // The first one migrates the fresh database; the others then start together.
  ctx.a = await startReplica(opts);
  [ctx.b, ctx.c] = await Promise.all([startReplica(opts), startReplica(opts)]);
  [ctx.apiA, ctx.apiB, ctx.apiC] = await Promise.all([adminApi(ctx.a), adminApi(ctx.b), adminApi(ctx.c)]);
}

t.after(async (ctx) => {
  await killAllAgents();
  await killAllReplicas();
  await ctx.mosquitto?.stop();
  await ctx.pg?.stop();
});

const it = (name: string, fn: (ctx: Ctx) => Promise<void>) => t(name, async (ctx) => (skipped ? undefined : fn(ctx)));

it('enroll through A, then B and C see it online and ping it at once', async (ctx) => {
  ctx.agent = await execAgent(ctx.a, ctx.apiA, { extraArgs: ['--telemetry-interval', '1s'] });
  for (const api of [ctx.apiB, ctx.apiC]) {
    const dev = await api.request('GET', `/api/devices/${ctx.agent.deviceId}`);
    assert.is(dev.body.online, true);
    const ping = await api.request('POST', `/api/devices/${ctx.agent.deviceId}/ping`);
    assert.is(ping.status, 200, JSON.stringify(ping.body));
  }
});

it('a starting replica reads the retained statuses without re-applying them: no device announced online again', async (ctx) => {
  // The replicas' own account may listen to the fleet events every replica publishes.
  const watcher = await mqtt.connectAsync(ctx.mosquitto.url, { clientId: `watch-${Date.now()}`, username: ctx.mosquitto.admin.username, password: ctx.mosquitto.admin.password, protocolVersion: 4, reconnectPeriod: 0 });
  const announced: unknown[] = [];
  watcher.on('message', (_topic, payload) => announced.push(JSON.parse(payload.toString())));
  await watcher.subscribeAsync(topicFor('fleetEvents', {}), { qos: 0 });
  const d = await startReplica({ brokerUrl: ctx.mosquitto.url, username: ctx.mosquitto.admin.username, password: ctx.mosquitto.admin.password, database: ctx.pg.url });
  try {
    assert.match(d.output(), /presence synced from the broker/);
    await new Promise((r) => setTimeout(r, 1000));
    const again = announced.filter((e) => typeof e === 'object' && e !== null && 'deviceId' in e && e.deviceId === ctx.agent.deviceId);
    assert.equal(again, [], 'the device was already online; the retained copy for the sync must not reach the shared presence handler too');
    assert.is((await ctx.apiA.request('GET', `/api/devices/${ctx.agent.deviceId}`)).body.online, true);
  } finally {
    await d.stop();
    await watcher.endAsync();
  }
});

async function storedSeqs(ctx: Ctx): Promise<number[]> {
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: ctx.pg.url });
  await client.connect();
  try {
    const r = await client.query('select b.seq from telemetry_batches b join telemetry_devices d on d.key = b.device_key where d.device_id = $1 order by b.seq', [ctx.agent.deviceId]);
    return r.rows.map((row: { seq: string | number }) => Number(row.seq));
  } finally {
    await client.end();
  }
}

async function ingestStats(apis: Api[]): Promise<Array<{ batches: number; duplicates: number }>> {
  return Promise.all(apis.map(async (api) => (await api.request('GET', '/api/telemetry/stats')).body));
}

it('telemetry is ingested once across the replicas: every batch stored, none twice', async (ctx) => {
  await waitFor('10 batches stored', async () => (await storedSeqs(ctx)).length >= 10, 30_000);
  const seqs = await storedSeqs(ctx);
  for (let i = 1; i < seqs.length; i++) assert.is(seqs[i], (seqs[i - 1] ?? 0) + 1, `gap or repeat at ${seqs[i]}`);
  const stats = await ingestStats([ctx.apiA, ctx.apiB, ctx.apiC]);
  assert.ok(stats.every((s) => s.duplicates === 0), `a batch reached two replicas: ${JSON.stringify(stats)}`);
  // More than one replica takes part (the shared group spreads the batches).
  assert.ok(stats.filter((s) => s.batches > 0).length >= 2, JSON.stringify(stats));
});

const terminal = (rec: Recorded) => Buffer.concat(rec.frames.filter((f) => f.binary).map((f) => f.data)).toString();
const controls = (rec: Recorded) => rec.frames.filter((f) => !f.binary).map((f) => JSON.parse(f.data.toString()));

async function openShell(replica: Replica, api: Api, deviceId: string, extra: Record<string, unknown> = {}): Promise<{ rec: Recorded; sessionId: string; info: Record<string, unknown> }> {
  const rec = await openSocket(wsUrl(replica, `/api/devices/${deviceId}/shell`), { authorization: `Bearer ${api.token}` });
  rec.ws.send(JSON.stringify({ type: 'open', cols: 80, rows: 24, shell: '/bin/sh', ...extra }));
  const opened = await waitFor('opened', () => controls(rec).find((m) => m.type === 'opened' || m.type === 'error'));
  assert.is(opened.type, 'opened', JSON.stringify(opened));
  return { rec, sessionId: opened.info.sessionId, info: opened.info };
}

it('kill -9 of a replica mid-shell: the device stays connected, the others serve it, the shell reattaches with its scrollback', async (ctx) => {
  const shell = await openShell(ctx.a, ctx.apiA, ctx.agent.deviceId);
  shell.rec.ws.send(Buffer.from('echo before-crash-$((6*7))\r'));
  await waitFor('output through A', () => terminal(shell.rec).includes('before-crash-42'));
  const before = ctx.agent.output().length;
  const seqsBefore = (await storedSeqs(ctx)).length;
  await ctx.a.crash();
  await shell.rec.closed;
  // Other replicas answer at once; the device never noticed.
  const ping = await ctx.apiB.request('POST', `/api/devices/${ctx.agent.deviceId}/ping`);
  assert.is(ping.status, 200, JSON.stringify(ping.body));
  assert.is((await ctx.apiC.request('GET', `/api/devices/${ctx.agent.deviceId}`)).body.online, true);
  const again = await openShell(ctx.b, ctx.apiB, ctx.agent.deviceId, { session: shell.sessionId });
  assert.is(again.info['reattached'], true);
  await waitFor('scrollback replayed through B', () => terminal(again.rec).includes('before-crash-42'));
  again.rec.ws.send(JSON.stringify({ type: 'close' }));
  // Telemetry keeps flowing into the store through the survivors.
  await waitFor('telemetry after the crash', async () => (await storedSeqs(ctx)).length >= seqsBefore + 5, 30_000);
  assert.not.match(ctx.agent.output().slice(before), /disconnected from the control plane/);
});

it('a device deleted through B is kicked at the broker and cannot come back', async (ctx) => {
  const token = await createEnrollmentToken(ctx.apiC);
  const res = await enrollRaw(ctx.c, token);
  const creds = await jsonOf(res);
  const dev = await mqtt.connectAsync(creds.mqtt.url, { clientId: creds.deviceId, username: creds.mqtt.username, password: creds.mqtt.password, protocolVersion: 4, reconnectPeriod: 0 });
  const gone = new Promise<void>((resolve) => dev.once('close', () => resolve()));
  assert.is((await ctx.apiB.request('DELETE', `/api/devices/${creds.deviceId}`)).status, 204);
  await gone;
  const back = await mqtt.connectAsync(creds.mqtt.url, { clientId: creds.deviceId, username: creds.mqtt.username, password: creds.mqtt.password, protocolVersion: 4, reconnectPeriod: 0 }).then(
    (c) => (c.end(true), 'connected'),
    () => 'refused',
  );
  assert.is(back, 'refused');
});

it('a device that publishes garbage is disabled at the broker and logged; nothing is stored', async (ctx) => {
  const token = await createEnrollmentToken(ctx.apiB);
  const creds = await jsonOf(await enrollRaw(ctx.b, token));
  const options = { clientId: creds.deviceId, username: creds.mqtt.username, password: creds.mqtt.password, protocolVersion: 4 as const, reconnectPeriod: 0 };
  const dev = await mqtt.connectAsync(creds.mqtt.url, options);
  const gone = new Promise<void>((resolve) => dev.once('close', () => resolve()));
  await dev.publishAsync(`edgehook/v1/d/${creds.deviceId}/telemetry`, '{"not":"a batch"}', { qos: 1 });
  await gone;
  await waitFor('logged by the replica that got it', () => [ctx.b, ctx.c].some((r) => r.output().includes('device disabled for publishing an invalid payload') && r.output().includes(creds.deviceId)));
  assert.is(await mqtt.connectAsync(creds.mqtt.url, options).then((c) => (c.end(true), 'connected'), () => 'refused'), 'refused');
});

it('broker restart: devices and replicas come back, presence is right, requests work', async (ctx) => {
  await ctx.mosquitto.restart({ signal: 'SIGKILL' });
  // With persistence off the retained statuses are gone: the device says online again on reconnect.
  await waitFor('device back online', async () => (await ctx.apiC.request('GET', `/api/devices/${ctx.agent.deviceId}`)).body?.online === true, 60_000);
  await waitFor('ping through B after the restart', async () => (await ctx.apiB.request('POST', `/api/devices/${ctx.agent.deviceId}/ping`)).status === 200, 30_000);
  const seqs = await storedSeqs(ctx);
  await waitFor('telemetry after the restart', async () => (await storedSeqs(ctx)).length >= seqs.length + 3, 30_000);
});

it('after a replica crash and a broker restart, the stored telemetry has no gap and no repeat', async (ctx) => {
  const seqs = await storedSeqs(ctx);
  const missing: number[] = [];
  for (let i = 1; i < seqs.length; i++) for (let s = (seqs[i - 1] ?? 0) + 1; s < (seqs[i] ?? 0); s++) missing.push(s);
  assert.equal(missing, [], `lost batches ${missing.join(', ')} of ${seqs.length}`);
  assert.is(new Set(seqs).size, seqs.length);
});

it('an agent that stops is offline for every replica (its will, through the broker)', async (ctx) => {
  ctx.agent.child.kill('SIGKILL');
  for (const api of [ctx.apiB, ctx.apiC]) {
    await waitFor('offline', async () => (await api.request('GET', `/api/devices/${ctx.agent.deviceId}`)).body?.online === false, 60_000);
  }
});

t.run();
