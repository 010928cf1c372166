import { Readable } from 'node:stream';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mayMatchRetained, skipImpossibleRetainedScans } from '../src/broker/retained-filter.js';

test('filters that can meet a retained protocol topic still scan; device filters do not', () => {
  assert.ok(mayMatchRetained('edgehook/v1/d/+/status'));
  assert.ok(mayMatchRetained('edgehook/v1/d/abc/hello'));
  assert.ok(mayMatchRetained('edgehook/v1/d/abc/#'));
  assert.ok(mayMatchRetained('edgehook/v1/#'));
  assert.ok(mayMatchRetained('#'));
  assert.ok(mayMatchRetained('+/v1/d/x/status'));
  assert.ok(mayMatchRetained('other/app/topic'), 'outside our root anything may be retained');
  assert.not.ok(mayMatchRetained('edgehook/v1/d/abc/rpc/req/#'));
  assert.not.ok(mayMatchRetained('edgehook/v1/d/+/rpc/res/cp-1/+'));
  assert.not.ok(mayMatchRetained('edgehook/v1/cp/events'));
  assert.not.ok(mayMatchRetained('edgehook/v1/d/abc/status/extra'));
});

test('the wrapped persistence scans only useful patterns', async () => {
  const asked: string[][] = [];
  const store = skipImpossibleRetainedScans({
    createRetainedStreamCombi(patterns: string[]) {
      asked.push(patterns);
      return Readable.from([{ topic: 'edgehook/v1/d/a/status' }]);
    },
  });
  const none = await store.createRetainedStreamCombi(['edgehook/v1/d/a/rpc/req/#']).toArray();
  assert.equal(none, []);
  const some = await store.createRetainedStreamCombi(['edgehook/v1/d/a/rpc/req/#', 'edgehook/v1/d/+/status']).toArray();
  assert.is(some.length, 1);
  assert.equal(asked, [['edgehook/v1/d/+/status']]);
});

test.run();
