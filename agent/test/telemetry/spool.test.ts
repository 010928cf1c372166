import { readdir, readFile, stat } from 'node:fs/promises';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createLogger, type Clock, type TelemetryBatch } from '@edgehook/shared';
import { SequenceNumbers } from '../../src/telemetry/sequence.js';
import { Spool } from '../../src/telemetry/spool.js';

const log = createLogger({ level: 'error', format: 'json', write: () => undefined });
const t = suite<{ dir: string }>('telemetry spool');
t.before.each(async (ctx) => {
  ctx.dir = await mkdtemp(join(tmpdir(), 'edgehook-spool-'));
});
t.after.each(async (ctx) => {
  await rm(ctx.dir, { recursive: true, force: true });
});

class ManualClock implements Clock {
  constructor(public t = 1_700_000_000_000) {}
  now() {
    return this.t;
  }
  monotonic() {
    return this.t;
  }
}

const batch = (seq: number, ts: number, n = 10): TelemetryBatch => ({ seq, ts, samples: Array.from({ length: n }, (_, i) => ({ m: 'x.value', v: i, l: { i: String(i) } })) });

async function diskBytes(dir: string): Promise<number> {
  let total = 0;
  for (const f of (await readdir(dir)).filter((n) => n.startsWith('seg-'))) total += (await stat(join(dir, f))).size;
  return total;
}

async function drain(spool: Spool): Promise<number[]> {
  const seqs: number[] = [];
  for (let b = await spool.peek(); b; b = await spool.peek()) {
    seqs.push(b.seq);
    await spool.ack();
  }
  return seqs;
}

t('batches come back in order and survive a restart, without repeats after ack', async ({ dir }) => {
  const clock = new ManualClock();
  const spool = await Spool.open({ dir, maxBytes: 1024 * 1024, maxAgeMs: 3600_000, clock, log });
  for (let i = 0; i < 50; i++) await spool.append(batch(i, clock.now() + i));
  assert.is(spool.size.batches, 50);
  for (let i = 0; i < 20; i++) {
    assert.is((await spool.peek())?.seq, i);
    await spool.ack();
  }
  // Reopen: the cursor was saved at most 10 acks ago, so at most 10 repeat (stored once upstream).
  const again = await Spool.open({ dir, maxBytes: 1024 * 1024, maxAgeMs: 3600_000, clock, log });
  const seqs = await drain(again);
  assert.equal(seqs, Array.from({ length: 50 - 20 }, (_, i) => 20 + i));
  assert.ok(again.isEmpty);
});

t('damaged state files replay from the head instead of failing; sequence numbers restart safely', async ({ dir }) => {
  const clock = new ManualClock();
  const spool = await Spool.open({ dir, maxBytes: 1024 * 1024, maxAgeMs: 3600_000, clock, log });
  for (let i = 0; i < 3; i++) await spool.append(batch(i, clock.now()));
  await writeFile(join(dir, 'state.json'), '{not json');
  const reopened = await Spool.open({ dir, maxBytes: 1024 * 1024, maxAgeMs: 3600_000, clock, log });
  assert.equal(await drain(reopened), [0, 1, 2]);
  await writeFile(join(dir, 'telemetry-seq.json'), '{"reservedUpTo": "lots"}');
  const seq = await SequenceNumbers.open(dir);
  assert.type(await seq.take(), 'number');
});

t('appends during replay go behind the batches being replayed', async ({ dir }) => {
  const clock = new ManualClock();
  const spool = await Spool.open({ dir, maxBytes: 1024 * 1024, maxAgeMs: 3600_000, clock, log });
  for (let i = 0; i < 5; i++) await spool.append(batch(i, clock.now()));
  assert.is((await spool.peek())?.seq, 0);
  await spool.ack();
  await spool.append(batch(5, clock.now()));
  assert.equal(await drain(spool), [1, 2, 3, 4, 5]);
});

t('the size limit holds on disk: oldest segments go first, and the loss is counted', async ({ dir }) => {
  const clock = new ManualClock();
  const maxBytes = 32 * 1024;
  const spool = await Spool.open({ dir, maxBytes, maxAgeMs: 3600_000, clock, log });
  let peak = 0;
  for (let i = 0; i < 400; i++) {
    await spool.append(batch(i, clock.now()));
    peak = Math.max(peak, await diskBytes(dir));
  }
  const perBatch = JSON.stringify(batch(0, clock.now())).length + 1;
  assert.ok(peak <= maxBytes + perBatch, `peak ${peak} > ${maxBytes}`);
  const drops = spool.pendingDrops();
  assert.ok(drops && drops.batches > 0);
  const kept = await drain(spool);
  assert.is(kept.at(-1), 399, 'the newest batches are kept');
  assert.is(kept.length + (drops?.batches ?? 0), 400, 'every batch is either kept or counted as dropped');
  assert.is(drops?.samples, (drops?.batches ?? 0) * 10);
  // Counted drops persist until reported.
  const reopened = await Spool.open({ dir, maxBytes, maxAgeMs: 3600_000, clock, log });
  assert.equal(reopened.pendingDrops(), drops);
  await reopened.reported(drops ?? { batches: 0, samples: 0 });
  assert.is(reopened.pendingDrops(), undefined);
  assert.equal(JSON.parse(await readFile(join(dir, 'state.json'), 'utf8')).dropped, { batches: 0, samples: 0 });
});

t('the age limit drops batches older than the limit', async ({ dir }) => {
  const clock = new ManualClock();
  const spool = await Spool.open({ dir, maxBytes: 4096 * 8, maxAgeMs: 60_000, clock, log });
  // Small segments (maxBytes / 8): 40 batches fill several.
  for (let i = 0; i < 40; i++) await spool.append(batch(i, clock.now()));
  clock.t += 120_000;
  for (let i = 40; i < 42; i++) await spool.append(batch(i, clock.now()));
  const kept = await drain(spool);
  assert.equal(kept, [40, 41]);
  assert.is(spool.pendingDrops()?.batches, 40);
});

t('sequence numbers never repeat across restarts', async ({ dir }) => {
  const a = await SequenceNumbers.open(dir);
  const first = [await a.take(), await a.take(), await a.take()];
  assert.equal(first, [0, 1, 2]);
  const b = await SequenceNumbers.open(dir);
  const next = await b.take();
  assert.ok(next > 2, `got ${next}`);
});

t.run();
