import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { HwEvent, KvmBool, KvmFloat0, KvmGpioPulseQuery, KvmSendKeyQuery, matchTopic, RpcMethods, topicFor, Topics, validate } from '../src/index.js';

test("PiKVM booleans accept kvmd's words in any case and nothing else", () => {
  for (const w of ['1', 'true', 'YES', 'on']) assert.equal(validate(KvmBool, w), { ok: true, value: true });
  for (const w of ['0', 'False', 'no', 'OFF']) assert.equal(validate(KvmBool, w), { ok: true, value: false });
  for (const w of ['', 'maybe', '2', 'truee']) assert.not.ok(validate(KvmBool, w).ok, w);
});

test('PiKVM floats: finite and >= 0', () => {
  assert.equal(validate(KvmFloat0, '0.25'), { ok: true, value: 0.25 });
  for (const w of ['', '-1', 'abc', 'Infinity', 'NaN']) assert.not.ok(validate(KvmFloat0, w).ok, w);
});

test('query schemas default wait to false and keep state optional for send_key', () => {
  assert.equal(validate(KvmGpioPulseQuery, { channel: 'relay' }), { ok: true, value: { channel: 'relay', delay: 0, wait: false } });
  const key = validate(KvmSendKeyQuery, { key: 'KeyA' });
  assert.ok(key.ok && key.value.state === undefined);
  assert.not.ok(validate(KvmSendKeyQuery, { key: 'Key A' }).ok);
});

test('the hwState topic is a device->cp topic with the HwEvent schema; hardware RPC methods are registered', () => {
  const t = topicFor('hwState', { deviceId: 'dev-1' });
  assert.equal(matchTopic(t), { name: 'hwState', params: { deviceId: 'dev-1' } });
  assert.is(Topics.hwState.direction, 'device->cp');
  assert.ok(validate(HwEvent, { kind: 'atx', ts: 1, state: { enabled: true, busy: false, acts: { power: false, reset: false }, leds: { power: true, hdd: false } } }).ok);
  assert.not.ok(validate(HwEvent, { kind: 'atx', ts: 1, state: { enabled: true } }).ok);
  for (const m of ['gpio.state', 'gpio.switch', 'gpio.pulse', 'atx.power', 'atx.click', 'hid.key', 'hid.print', 'info', 'log', 'hw.snapshot', 'serial.exchange', 'i2c.read']) assert.ok(Object.hasOwn(RpcMethods, m), m);
  assert.not.ok(validate(RpcMethods['gpio.pulse'].params, { channel: 'x', delay: -1 }).ok);
});

test.run();
