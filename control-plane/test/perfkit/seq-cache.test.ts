import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { SeqCache } from '../../src/perfkit/seq-cache.js';

const cache = () => new SeqCache<Buffer>({ maxEntries: 3, maxBytes: 10, sizeOf: (b) => b.length });

test('a known seq is answered, an unknown one is a miss', () => {
  const c = cache();
  c.set('d/s/i/1', Buffer.from('ab'));
  assert.equal(c.get('d/s/i/1'), Buffer.from('ab'));
  assert.is(c.get('d/s/i/2'), undefined);
  assert.equal(c.stats, { hits: 1, misses: 1, evicted: 0 });
});

test('bounded by entries: the least recently used goes first', () => {
  const c = cache();
  for (const k of ['a', 'b', 'c']) c.set(k, Buffer.from('x'));
  c.get('a'); // a is now the most recent
  c.set('d', Buffer.from('x'));
  assert.is(c.get('b'), undefined, 'b was the least recently used');
  assert.ok(c.get('a') && c.get('c') && c.get('d'));
  assert.equal(c.size, { entries: 3, bytes: 3 });
});

test('bounded by bytes; a value larger than the whole cache is not kept; replacing updates the size', () => {
  const c = cache();
  c.set('a', Buffer.alloc(4));
  c.set('b', Buffer.alloc(4));
  c.set('c', Buffer.alloc(4));
  assert.equal(c.size, { entries: 2, bytes: 8 });
  assert.is(c.get('a'), undefined);
  c.set('huge', Buffer.alloc(11));
  assert.is(c.get('huge'), undefined);
  c.set('b', Buffer.alloc(1));
  assert.equal(c.size, { entries: 2, bytes: 5 });
  assert.is(c.stats.evicted, 1);
});

test.run();
