import * as assert from 'uvu/assert';
import type { Transport } from '../src/transport/index.js';

/**
 * What every Transport must do, whatever carries the messages. Each implementation's test file
 * calls this with a factory that connects clients to one broker.
 */
export interface TransportFixture {
  connect(opts?: { will?: { topic: string; payload: string; retain?: boolean } }): Promise<Transport>;
  /** Kills a client's connection without a clean disconnect (so its will fires). */
  kill(t: Transport): Promise<void>;
}

function collector() {
  const got: Array<[string, string]> = [];
  return {
    got,
    handler: (topic: string, payload: Buffer) => got.push([topic, payload.toString()]),
    async waitFor(n: number, ms = 3000) {
      const end = Date.now() + ms;
      while (got.length < n && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
      return got;
    },
  };
}

export function transportContract(name: string, test: (title: string, fn: () => Promise<void>) => void, fixture: () => TransportFixture): void {
  test(`${name}: delivers to matching wildcard subscriptions only`, async () => {
    const f = fixture();
    const a = await f.connect();
    const b = await f.connect();
    const c = collector();
    await b.subscribe('t/+/x', c.handler);
    await a.publish('t/1/x', 'one', { qos: 1 });
    await a.publish('t/1/y', 'nope', { qos: 1 });
    await a.publish('t/2/x', 'two', { qos: 1 });
    const got = await c.waitFor(2);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(got, [['t/1/x', 'one'], ['t/2/x', 'two']]);
    await a.close();
    await b.close();
  });

  test(`${name}: retained messages reach late subscribers; empty payload clears them`, async () => {
    const f = fixture();
    const a = await f.connect();
    await a.publish('r/state', 'on', { qos: 1, retain: true });
    await new Promise((r) => setTimeout(r, 50));
    const b = await f.connect();
    const c = collector();
    await b.subscribe('r/#', c.handler);
    assert.equal(await c.waitFor(1), [['r/state', 'on']]);
    await a.publish('r/state', '', { qos: 1, retain: true });
    await new Promise((r) => setTimeout(r, 50));
    const d = await f.connect();
    const c2 = collector();
    await d.subscribe('r/#', c2.handler);
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(c2.got, []);
    for (const t of [a, b, d]) await t.close();
  });

  test(`${name}: the will is published when a client dies, not when it closes cleanly`, async () => {
    const f = fixture();
    const watcher = await f.connect();
    const c = collector();
    await watcher.subscribe('w/+', c.handler);
    const clean = await f.connect({ will: { topic: 'w/clean', payload: 'gone' } });
    await clean.close();
    const dying = await f.connect({ will: { topic: 'w/dying', payload: 'gone' } });
    await f.kill(dying);
    const got = await c.waitFor(1);
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(got, [['w/dying', 'gone']]);
    await watcher.close();
  });

  test(`${name}: publish after close rejects instead of queueing`, async () => {
    const f = fixture();
    const a = await f.connect();
    await a.close();
    assert.not.ok(a.connected);
    let failed = false;
    await a.publish('x', 'y').catch(() => {
      failed = true;
    });
    assert.ok(failed);
  });

  test(`${name}: unsubscribe stops delivery`, async () => {
    const f = fixture();
    const a = await f.connect();
    const b = await f.connect();
    const c = collector();
    const off = await b.subscribe('u/#', c.handler);
    await a.publish('u/1', 'a', { qos: 1 });
    await c.waitFor(1);
    await off();
    await a.publish('u/2', 'b', { qos: 1 });
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(c.got, [['u/1', 'a']]);
    await a.close();
    await b.close();
  });
}
