import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ACK_EAGER_BYTES, AckBatcher } from '../src/stream-ack.js';

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

test('a flood: credit of one turn goes back in one ack at the end of that turn', async () => {
  const sent: number[] = [];
  const acks = new AckBatcher((n) => sent.push(n), 512 * 1024, 10_000);
  acks.add(ACK_EAGER_BYTES);
  acks.add(100);
  assert.equal(sent, [], 'not inside the turn that consumed it');
  await nextTurn();
  assert.equal(sent, [ACK_EAGER_BYTES + 100]);
});

test('a trickle: small credit waits for the delay, gathered into one ack, never inside the same turns', async () => {
  const sent: Array<{ n: number; at: number }> = [];
  const delayMs = 40;
  const start = performance.now();
  const acks = new AckBatcher((n) => sent.push({ n, at: performance.now() - start }), 512 * 1024, delayMs);
  acks.add(1);
  await nextTurn();
  acks.add(3);
  await nextTurn();
  assert.equal(sent, [], 'a keystroke-sized credit does not leave at once');
  for (let i = 0; i < 200 && sent.length === 0; i++) await sleep(5);
  assert.is(sent.length, 1);
  assert.is(sent[0]?.n, 4);
  assert.ok((sent[0]?.at ?? 0) >= delayMs - 1, `sent after ${sent[0]?.at} ms, the delay is ${delayMs} ms`);
});

test('small credit that grows past the eager size leaves at the end of the turn, and only once', async () => {
  const sent: number[] = [];
  const acks = new AckBatcher((n) => sent.push(n), 512 * 1024, 30);
  acks.add(10);
  acks.add(ACK_EAGER_BYTES);
  await nextTurn();
  assert.equal(sent, [ACK_EAGER_BYTES + 10]);
  await sleep(60);
  assert.equal(sent, [ACK_EAGER_BYTES + 10], 'the cancelled timer sends nothing more');
});

test('a small window: eager at a quarter of it, so a sender at its window never waits for the timer', async () => {
  const sent: number[] = [];
  const acks = new AckBatcher((n) => sent.push(n), 1024, 10_000);
  acks.add(255);
  await nextTurn();
  assert.equal(sent, []);
  acks.add(1);
  await nextTurn();
  assert.equal(sent, [256]);
});

test.run();
