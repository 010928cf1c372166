import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { PullProgress } from '@edgehook/shared';
import { PullTracker, throttledPull } from '../../src/containers/pull-progress.js';

test("Docker's pull lines: layers, bytes, Already exists, extraction not counted twice", () => {
  const t = new PullTracker('busybox:latest');
  t.push({ status: 'Pulling from library/busybox', id: 'latest' });
  t.push({ status: 'Already exists', id: 'aaa' });
  t.push({ status: 'Pulling fs layer', id: 'bbb' });
  t.push({ status: 'Waiting', id: 'ccc' });
  t.push({ status: 'Downloading', id: 'bbb', progressDetail: { current: 1000, total: 3000 } });
  assert.equal(t.snapshot('pulling').layers, { total: 3, done: 1 });
  assert.equal(t.snapshot('pulling').bytes, { current: 1000, total: 3000 });
  t.push({ status: 'Download complete', id: 'bbb' });
  t.push({ status: 'Extracting', id: 'bbb', progressDetail: { current: 500, total: 9000 } });
  t.push({ status: 'Pull complete', id: 'bbb' });
  t.push({ status: 'Downloading', id: 'ccc', progressDetail: { current: 10, total: 100 } });
  const mid = t.snapshot('pulling');
  assert.equal(mid.layers, { total: 3, done: 2 });
  assert.equal(mid.bytes, { current: 3010, total: 3100 });
  t.push({ status: 'Digest: sha256:0123' });
  t.push({ status: 'Status: Downloaded newer image for busybox:latest' });
  const end = t.snapshot('done');
  assert.equal(end.layers, { total: 3, done: 3 });
  assert.equal(end.bytes, { current: 3100, total: 3100 });
});

test("Podman's compatible lines: its config blob (named again by the final line) is no layer", () => {
  const t = new PullTracker('localhost:5000/x:latest');
  t.push({ status: 'Pulling fs layer', id: 'l1', progressDetail: {} });
  t.push({ status: 'Pulling fs layer', id: 'l2', progressDetail: {} });
  t.push({ status: 'Download complete', id: 'l2', progressDetail: {} });
  t.push({ status: 'Downloading', id: 'l1', progressDetail: { current: 900, total: 1000 } });
  t.push({ status: 'Download complete', id: 'l1', progressDetail: {} });
  t.push({ status: 'Pulling fs layer', id: 'cfg', progressDetail: {} });
  t.push({ status: 'Download complete', id: 'cfg', progressDetail: {} });
  t.push({ status: 'Download complete', id: 'cfg', progressDetail: {} });
  const end = t.snapshot('done');
  assert.equal(end.layers, { total: 2, done: 2 });
  assert.equal(end.bytes, { current: 1000, total: 1000 });
});

test('throttled: the first report at once, then at most one per interval (the latest), the final one at once', async () => {
  let now = 0;
  const clock = { now: () => now, monotonic: () => now };
  const got: PullProgress[] = [];
  const report = throttledPull((p) => got.push(p), clock, 250);
  const p = (current: number, status: PullProgress['status'] = 'pulling'): PullProgress => ({ image: 'x', status, layers: { total: 1, done: 0 }, bytes: { current, total: 10 } });
  report(p(1));
  report(p(2));
  report(p(3));
  assert.equal(got.map((g) => g.bytes.current), [1]);
  now = 300;
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(got.map((g) => g.bytes.current), [1, 3]);
  report(p(4));
  report(p(10, 'done'));
  assert.equal(got.map((g) => g.bytes.current), [1, 3, 10]);
  await new Promise((r) => setTimeout(r, 300));
  assert.is(got.length, 3, 'nothing after the final report');
});

test.run();
