import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { STREAM_CHUNK_MAX } from '@edgehook/shared';
import { Outbound } from '../src/streams/outbound.js';

const tick = () => new Promise((r) => setImmediate(r));

test('coalesces writes of one turn into one message with the channel byte first', async () => {
  const sent: Buffer[] = [];
  const out = new Outbound(1024 * 1024, (p) => sent.push(p));
  out.write(Buffer.from('ab'), 1);
  out.write(Buffer.from('cd'), 1);
  out.write(Buffer.from('E'), 2);
  await tick();
  assert.equal(sent.map((p) => [p[0], p.subarray(1).toString()]), [[1, 'abcd'], [2, 'E']]);
  assert.is(out.sent, 5);
});

test('never more than the window unacknowledged; write says pause; ack resumes and drains', async () => {
  const sent: Buffer[] = [];
  const out = new Outbound(100_000, (p) => sent.push(p));
  let drained = 0;
  out.onDrain(() => drained++);
  assert.is(out.write(Buffer.alloc(60_000), 1), true);
  assert.is(out.write(Buffer.alloc(60_000), 1), false);
  await tick();
  const inflight = () => sent.reduce((n, p) => n + p.length - 1, 0);
  assert.is(inflight(), 100_000);
  assert.ok(sent.every((p) => p.length - 1 <= STREAM_CHUNK_MAX));
  out.ack(50_000);
  assert.is(inflight(), 120_000);
  assert.is(drained, 1);
  const flushed = out.whenFlushed();
  await flushed;
});

test('stop drops queued data and releases waiters', async () => {
  const out = new Outbound(10, () => undefined);
  out.write(Buffer.alloc(100), 1);
  const waiting = out.whenFlushed();
  out.stop();
  await waiting;
  assert.is(out.write(Buffer.from('x'), 1), false);
});

test.run();
