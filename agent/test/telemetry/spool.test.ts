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

t('a damaged sequence file continues in a fresh epoch above every number used before, with a warning', async ({ dir }) => {
  const a = await SequenceNumbers.open(dir);
  for (let i = 0; i < 1500; i++) await a.take(); // two blocks reserved: the file says 2000
  await writeFile(join(dir, 'telemetry-seq.json'), '\u0000\u0000garbage');
  const warnings: string[] = [];
  const warnLog = createLogger({ level: 'warn', format: 'json', write: (line) => warnings.push(line) });
  // Before the fix, the sequence restarted at 0 and the control plane discarded new batches as duplicates.
  const b = await SequenceNumbers.open(dir, { log: warnLog, randomEpoch: () => 0 });
  const next = await b.take();
  assert.is(next, 2 ** 32, 'epoch 1 starts at 2^32');
  assert.match(warnings.join('\n'), /sequence state was damaged/);
  // The new epoch is saved like any other reservation: a clean restart stays in it.
  const c = await SequenceNumbers.open(dir);
  assert.ok((await c.take()) > next);
  // A missing file on a device whose spool still holds batches starts above them.
  await rm(join(dir, 'telemetry-seq.json'));
  const d = await SequenceNumbers.open(dir, { floor: 77 });
  assert.is(await d.take(), 77);
});

t('a torn last line (kill -9 mid-append) is skipped and does not swallow the next append', async ({ dir }) => {
  const clock = new ManualClock();
  const spool = await Spool.open({ dir, maxBytes: 1024 * 1024, maxAgeMs: 3600_000, clock, log });
  await spool.append(batch(0, clock.now()));
  const [seg] = (await readdir(dir)).filter((n) => n.startsWith('seg-'));
  await writeFile(join(dir, seg ?? ''), JSON.stringify(batch(0, clock.now())) + '\n' + JSON.stringify(batch(1, clock.now())).slice(0, 40));
  const reopened = await Spool.open({ dir, maxBytes: 1024 * 1024, maxAgeMs: 3600_000, clock, log });
  assert.is(reopened.highest, 0);
  await reopened.append(batch(2, clock.now()));
  assert.equal(await drain(reopened), [0, 2]);
});

t('window() shows batches ahead of the cursor, including ones appended after it was read; advance() drops them', async ({ dir }) => {
  const clock = new ManualClock();
  const spool = await Spool.open({ dir, maxBytes: 1024 * 1024, maxAgeMs: 3600_000, clock, log });
  for (let i = 0; i < 3; i++) await spool.append(batch(i, clock.now()));
  assert.equal((await spool.window(10)).map((b) => b?.seq), [0, 1, 2]);
  await spool.append(batch(3, clock.now()));
  assert.equal((await spool.window(2)).map((b) => b?.seq), [0, 1]);
  await spool.advance(2);
  assert.equal((await spool.window(10)).map((b) => b?.seq), [2, 3]);
  await spool.advance(2);
  assert.equal(await spool.window(10), []);
  assert.ok(spool.isEmpty);
  const reopened = await Spool.open({ dir, maxBytes: 1024 * 1024, maxAgeMs: 3600_000, clock, log });
  assert.ok(reopened.isEmpty, 'nothing is sent again after a clean advance');
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
