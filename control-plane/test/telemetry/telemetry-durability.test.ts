import { createRequire } from 'node:module';
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { IngestWriter } from '../../src/telemetry/ingest.writer.js';
import { adminApi, cleanup, createEnrollmentToken, freePort, killAllAgents, serveProcess, spawnAgent, startTestControlPlane, tempDir, waitFor, type TestControlPlane } from '../helpers/harness.js';

const require = createRequire(import.meta.url);
const Database = require('better-sqlite3') as typeof import('better-sqlite3');

const t = suite<{ dirs: string[]; cps: TestControlPlane[] }>('telemetry durability');
t.before((ctx) => {
  ctx.dirs = [];
  ctx.cps = [];
});
t.after(async (ctx) => {
  await killAllAgents();
  for (const cp of ctx.cps) await cp.close().catch(() => undefined);
  await cleanup(...ctx.dirs);
});

function storedSeqs(dbPath: string, deviceId: string): number[] {
  const db = new Database(dbPath, { readonly: true, fileMustExist: true });
  try {
    const rows = db.prepare('select b.seq as seq from telemetry_batches b join telemetry_devices d on d.key = b.device_key where d.device_id = ? order by b.seq').all(deviceId) as Array<{ seq: number }>;
    return rows.map((r) => r.seq);
  } catch {
    return []; // not migrated yet
  } finally {
    db.close();
  }
}

async function spooled(stateDir: string): Promise<number> {
  const names = await readdir(join(stateDir, 'telemetry-spool')).catch(() => [] as string[]);
  return names.filter((n) => n.startsWith('seg-')).length;
}

const missing = (seqs: number[]): number[] => {
  const have = new Set(seqs);
  const out: number[] = [];
  for (let s = seqs[0] ?? 0; s <= (seqs.at(-1) ?? -1); s++) if (!have.has(s)) out.push(s);
  return out;
};

t('kill -9 of the control plane mid-flow loses no batch: the agent re-sends what was never acknowledged', async (ctx) => {
  const dataDir = await tempDir('edgehook-cp-');
  const stateDir = await tempDir('edgehook-agent-');
  ctx.dirs.push(dataDir, stateDir);
  const [port, mqttPort] = [await freePort(), await freePort()];
  // A long write buffer (3 s at 1 batch/s) keeps batches in the control plane's memory when it dies.
  const args = ['--port', String(port), '--mqtt-port', String(mqttPort), '--data-dir', dataDir, '--telemetry-flush-ms', '3000'];
  let cp = serveProcess(args);
  const url = `http://127.0.0.1:${port}`;
  await waitFor('control plane up', async () => (await fetch(`${url}/api/health`).catch(() => undefined))?.ok, 20_000);
  const api = await adminApi({ url });
  const agent = spawnAgent({ server: url, token: await createEnrollmentToken(api), stateDir, hostname: 'kill9', extraArgs: ['--telemetry-interval', '1s', '--telemetry-port', 'off', '--telemetry-replay-rate', '50'] });
  const deviceId = await waitFor('enrollment', async () => /"deviceId":"([^"]+)"/.exec(agent.output())?.[1], 20_000);
  const dbPath = join(dataDir, 'edgehook.db');
  for (let kill = 0; kill < 3; kill++) {
    const before = storedSeqs(dbPath, deviceId).length;
    await waitFor('a flush', () => storedSeqs(dbPath, deviceId).length > before, 20_000);
    // Two more batches reach the buffer, then the process dies without a flush.
    await new Promise((r) => setTimeout(r, 2000));
    cp.child.kill('SIGKILL');
    await cp.exited;
    cp = serveProcess(args);
    await waitFor('control plane back', async () => (await fetch(`${url}/api/health`).catch(() => undefined))?.ok, 20_000);
  }
  const last = await waitFor('batches after the last restart', () => {
    const s = storedSeqs(dbPath, deviceId);
    return s.length > 0 && (s.at(-1) ?? 0) >= 8 ? s : undefined;
  }, 30_000);
  // Every batch the agent made up to the newest stored one is there: no hole left by the kills.
  await waitFor('holes filled by re-sends', () => missing(storedSeqs(dbPath, deviceId)).length === 0, 30_000).catch(() => undefined);
  const seqs = storedSeqs(dbPath, deviceId);
  assert.equal(missing(seqs), [], `lost batches after 3 kills (first ${seqs[0]}, last ${seqs.at(-1)}, ${last.length} stored)`);
  assert.is(seqs[0], 0);
  await agent.stop();
  cp.child.kill('SIGTERM');
  await cp.exited;
});

t('a store whose writes fail keeps the batches, reports unhealthy on /api/health, and recovers when writes work again', async (ctx) => {
  let failing = false;
  const wrap = (inner: IngestWriter): IngestWriter => ({
    write: (work, oldest) => (failing ? Promise.reject(new Error('SQLITE_FULL: database or disk is full')) : inner.write(work, oldest)),
    writeLatest: (series) => inner.writeLatest(series),
    close: () => inner.close(),
  });
  const cp = await startTestControlPlane({ wrapIngestWriter: wrap });
  ctx.cps.push(cp);
  ctx.dirs.push(cp.dataDir);
  const api = await adminApi(cp);
  const stateDir = await tempDir('edgehook-agent-');
  ctx.dirs.push(stateDir);
  const agent = spawnAgent({ server: cp.url, token: await createEnrollmentToken(api), stateDir, hostname: 'diskfull', extraArgs: ['--telemetry-interval', '1s', '--telemetry-port', 'off'] });
  const deviceId = await waitFor('enrollment', async () => /"deviceId":"([^"]+)"/.exec(agent.output())?.[1], 20_000);
  const dbPath = join(cp.dataDir, 'edgehook.db');
  await waitFor('first batches', () => storedSeqs(dbPath, deviceId).length >= 2, 20_000);
  assert.is((await fetch(`${cp.url}/api/health`)).status, 200);

  failing = true;
  const down = await waitFor('unhealthy', async () => {
    const res = await fetch(`${cp.url}/api/health`);
    return res.status === 503 ? ((await res.json()) as { ok: boolean; store: { telemetry: { healthy: boolean; error: string; retainedBatches: number } } }) : undefined;
  }, 20_000);
  assert.is(down.ok, false);
  assert.match(down.store.telemetry.error, /disk is full/);
  const stuckAt = storedSeqs(dbPath, deviceId).length;
  await waitFor('batches piling up unacknowledged on the agent', async () => (await spooled(stateDir)) > 0 && (await fetch(`${cp.url}/api/health`).then((r) => r.json() as Promise<{ store: { telemetry: { retainedBatches: number } } }>)).store.telemetry.retainedBatches >= 3, 20_000);
  assert.is(storedSeqs(dbPath, deviceId).length, stuckAt, 'nothing written while the store fails');
  assert.ok(!cp.logs.some((l) => /batches dropped/.test(l)), 'nothing dropped');

  failing = false;
  await waitFor('healthy again', async () => (await fetch(`${cp.url}/api/health`)).status === 200, 20_000);
  await waitFor('the outage written', () => storedSeqs(dbPath, deviceId).length >= stuckAt + 3, 20_000);
  const seqs = storedSeqs(dbPath, deviceId);
  assert.equal(missing(seqs), [], 'no hole where the store failed');
  assert.is(seqs[0], 0);
  await agent.stop();
});

t('a damaged telemetry-seq.json does not turn new batches into duplicates: the agent warns and continues in a fresh epoch', async (ctx) => {
  const cp = await startTestControlPlane();
  ctx.cps.push(cp);
  ctx.dirs.push(cp.dataDir);
  const api = await adminApi(cp);
  const stateDir = await tempDir('edgehook-agent-');
  ctx.dirs.push(stateDir);
  const args = ['--telemetry-interval', '1s', '--telemetry-port', 'off'];
  const first = spawnAgent({ server: cp.url, token: await createEnrollmentToken(api), stateDir, hostname: 'seqfile', extraArgs: args });
  const deviceId = await waitFor('enrollment', async () => /"deviceId":"([^"]+)"/.exec(first.output())?.[1], 20_000);
  const dbPath = join(cp.dataDir, 'edgehook.db');
  await waitFor('first batches', () => storedSeqs(dbPath, deviceId).length >= 3, 20_000);
  await first.stop();
  await writeFile(join(stateDir, 'telemetry-seq.json'), '{"reservedUpTo": 10');
  const before = storedSeqs(dbPath, deviceId).length;
  const again = spawnAgent({ stateDir, extraArgs: args });
  await again.waitForOutput(/sequence state was damaged/, 20_000);
  // Before the fix the sequence restarted at 0 and these were discarded as duplicates of the first run.
  await waitFor('new batches stored', () => storedSeqs(dbPath, deviceId).length >= before + 3, 20_000);
  assert.ok((storedSeqs(dbPath, deviceId).at(-1) ?? 0) >= 2 ** 32, 'the new batches are numbered in a fresh epoch');
  await again.stop();
});

t.run();
