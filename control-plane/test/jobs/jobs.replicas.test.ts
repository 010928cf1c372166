import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { systemClock, type Logger } from '@edgehook/shared';
import { MemoryBroker } from '@edgehook/shared/transport';
import { storeFixtures } from '../helpers/stores.js';
import { deleteDevice, insertDevice, markOnline } from '../../src/devices/devices.repository.js';
import { RpcClient } from '../../src/devices/rpc.client.js';
import { FleetEvents } from '../../src/events/fleet-events.js';
import { JobService } from '../../src/jobs/jobs.service.js';
import type { AgentUpdater } from '../../src/jobs/job-kinds.js';
import * as repo from '../../src/jobs/jobs.repository.js';

// Two job services (two replicas) stepping one store, on SQLite and PostgreSQL, each with its own
// agent updater: every device is updated exactly once, whichever replica claims it; the updater's
// rolled-back answer is the device's failure.
const { fixtures, skipped } = await storeFixtures();
for (const s of skipped) console.log(`  (jobs replicas skipped for ${s})`);
const quiet: Logger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined, child: () => quiet };
const N = 60;

for (const store of fixtures) {
  test(`${store.name}: two replicas, one store: each device updated once`, async () => {
    const db = await store.open();
    for (let i = 0; i < N; i++) {
      const id = `dev-${String(i).padStart(3, '0')}`;
      await insertDevice(db, { id, name: `d${String(i).padStart(3, '0')}`, secretHash: 'x', description: { hostname: id, profile: 'simulated', agentVersion: '1', hardware: { arch: 'x64', platform: 'linux', cpus: 1, memTotalBytes: 1 } }, tags: ['lab'], enrollmentTokenId: 't' }, 0);
      await markOnline(db, id, `s-${i}`, 0);
    }
    const broker = new MemoryBroker();
    const calls: Array<[string, string]> = [];
    const replica = (name: string): JobService => {
      const transport = broker.connect();
      const updater: AgentUpdater = {
        async update(deviceId) {
          calls.push([name, deviceId]);
          await new Promise((r) => setTimeout(r, Math.random() * 5));
          return deviceId === 'dev-007' ? { status: 'rolled-back', version: '1.0.0', message: 'health check failed; rolled back to 1.0.0' } : { status: 'succeeded', version: '2.0.0' };
        },
      };
      return new JobService({ db, rpc: new RpcClient({ transport, instanceId: name, clock: systemClock, log: quiet, defaultTimeoutMs: 1000 }), clock: systemClock, log: quiet, events: new FleetEvents(transport, quiet), instanceId: name, agentUpdater: updater, tickMs: 10 });
    };
    const [a, b] = [replica('cp-a'), replica('cp-b')];
    const admin = { userId: 'u', username: 'ann', roleId: 'r', roleName: 'admin', permissions: ['*'], sessionId: null };
    const created = await a.create({ operation: { kind: 'agent-update', spec: { version: '2.0.0' } }, select: { tags: ['lab'], names: [], query: {} }, rollout: { batch: { count: 7 }, pauseMs: 0, expiresInMs: 60_000, timeoutMs: 10_000 } }, admin);
    // Deleted after the job was created: its row is cancelled, never run.
    await deleteDevice(db, 'dev-059');
    a.start();
    b.start();
    const deadline = Date.now() + 30_000;
    let job = await b.detail(created.id);
    while (job.finishedAt === null && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
      job = await b.detail(created.id);
    }
    await a.stop();
    await b.stop();
    assert.ok(job.finishedAt !== null, 'finished');
    assert.is(calls.length, N - 1, `every device once (${calls.length} calls)`);
    assert.is(new Set(calls.map(([, d]) => d)).size, N - 1);
    assert.is(job.batches, 9);
    assert.equal([job.state, job.counts.succeeded, job.counts.failed, job.counts.cancelled], ['failed', N - 2, 1, 1]);
    assert.equal(job.devices.find((d) => d.deviceId === 'dev-059')?.message, 'the device was deleted');
    const rolledBack = job.devices.find((d) => d.deviceId === 'dev-007');
    assert.equal([rolledBack?.status, rolledBack?.message], ['failed', 'health check failed; rolled back to 1.0.0']);
    const owners = new Set((await repo.jobDevices(db, created.id)).map((d) => d.owner));
    assert.ok([...owners].every((o) => o === 'cp-a' || o === 'cp-b' || o === null), 'each run recorded by the replica that claimed it');
  });
}

test.after(async () => {
  for (const s of fixtures) await s.close();
});

test.run();
