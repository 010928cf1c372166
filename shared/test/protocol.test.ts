import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { backoffDelay, decodeJson, devicePrefix, filterFor, grantCovers, hasPermission, isValidGrant, matchTopic, PresenceMessage, topicFor, TOPIC_ROOT } from '../src/index.js';

test('topics carry the versioned root and round-trip through matchTopic', () => {
  const t = topicFor('rpcRequest', { deviceId: 'dev-1', replyTo: 'cp-a', requestId: 'r1' });
  assert.is(t, `${TOPIC_ROOT}/d/dev-1/rpc/req/cp-a/r1`);
  assert.equal(matchTopic(t), { name: 'rpcRequest', params: { deviceId: 'dev-1', replyTo: 'cp-a', requestId: 'r1' } });
  assert.ok(t.startsWith('edgehook/v1/'));
});

test('filters use + for unnamed parameters', () => {
  assert.is(filterFor('status'), 'edgehook/v1/d/+/status');
  assert.is(filterFor('rpcResponse', { replyTo: 'cp-x' }), 'edgehook/v1/d/+/rpc/res/cp-x/+');
});

test('topic parameters cannot inject levels or wildcards', () => {
  for (const bad of ['a/b', '+', '#', '', 'x'.repeat(65)]) {
    assert.throws(() => topicFor('status', { deviceId: bad }), /invalid topic parameter/);
  }
});

test('unknown and foreign-root topics do not match', () => {
  assert.is(matchTopic('edgehook/v2/d/x/status'), null);
  assert.is(matchTopic('edgehook/v1/d/x/status/extra'), null);
  assert.is(matchTopic('other'), null);
  assert.is(devicePrefix('abc'), 'edgehook/v1/d/abc/');
});

test('payload decoding reports bad JSON and schema problems clearly', () => {
  const bad = decodeJson(PresenceMessage, '{nope');
  assert.not.ok(bad.ok);
  if (!bad.ok) assert.match(bad.error, /invalid JSON/);
  const wrong = decodeJson(PresenceMessage, JSON.stringify({ state: 'maybe', ts: 1 }));
  assert.not.ok(wrong.ok);
  if (!wrong.ok) assert.match(wrong.error, /state/);
  assert.ok(decodeJson(PresenceMessage, JSON.stringify({ state: 'online', ts: 1 })).ok);
});

test('permission grants: exact, prefix wildcard and star', () => {
  assert.ok(grantCovers('*', 'users.admin'));
  assert.ok(grantCovers('devices.*', 'devices.exec.arbitrary'));
  assert.not.ok(grantCovers('devices.*', 'users.read'));
  assert.not.ok(grantCovers('devices.read', 'devices.readx'));
  assert.ok(hasPermission(['devices.read', 'devices.ping'], 'devices.ping'));
  assert.not.ok(hasPermission(['devices.read'], 'devices.shell'));
  assert.ok(isValidGrant('devices.*'));
  assert.not.ok(isValidGrant('nothing.*'));
  assert.not.ok(isValidGrant('devices.fly'));
});

test('backoff grows, is capped, and is jittered within [ceiling/2, ceiling]', () => {
  const opts = { baseMs: 1000, maxMs: 60_000 };
  assert.is(backoffDelay(0, opts, () => 0), 500);
  assert.is(backoffDelay(0, opts, () => 1), 1000);
  assert.is(backoffDelay(3, opts, () => 1), 8000);
  assert.is(backoffDelay(50, opts, () => 1), 60_000);
  assert.is(backoffDelay(50, opts, () => 0), 30_000);
});

test.run();
