import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { checkTelemetryBatch, isPlainTelemetryBatch, TelemetryBatch } from '../src/messages/telemetry.js';

const good = { seq: 7, ts: 1_700_000_000_000, samples: [{ m: 'cpu.usage', v: 0.5 }, { m: 'disk.used', v: 3, l: { mount: '/', dev: 'sda1' } }, { m: 'trace.app.ms', v: -1.5, t: 1_700_000_000_100 }] };

// Each is a small change to a good batch; the hand-written check must never accept what zod refuses.
const variants: Array<[string, unknown]> = [
  ['good', good],
  ['replay and dropped', { ...good, replay: true, dropped: { batches: 2, samples: 120 } }],
  ['no samples', { ...good, samples: [] }],
  ['negative seq', { ...good, seq: -1 }],
  ['fractional ts', { ...good, ts: 1.5 }],
  ['unsafe seq', { ...good, seq: 2 ** 60 }],
  ['string seq', { ...good, seq: '7' }],
  ['missing ts', { seq: 1, samples: [] }],
  ['samples not an array', { ...good, samples: {} }],
  ['too many samples', { ...good, samples: Array.from({ length: 5001 }, () => ({ m: 'a', v: 1 })) }],
  ['unknown batch key (zod strips it)', { ...good, extra: 1 }],
  ['unknown sample key (zod strips it)', { ...good, samples: [{ m: 'a', v: 1, x: 2 }] }],
  ['__proto__ sample key', JSON.parse('{"seq":1,"ts":1,"samples":[{"m":"a","v":1,"__proto__":{"x":1}}]}')],
  ['upper-case metric', { ...good, samples: [{ m: 'CPU', v: 1 }] }],
  ['long metric', { ...good, samples: [{ m: 'a'.repeat(129), v: 1 }] }],
  ['metric of 128', { ...good, samples: [{ m: 'a'.repeat(128), v: 1 }] }],
  ['value a string', { ...good, samples: [{ m: 'a', v: '1' }] }],
  ['value infinite', { ...good, samples: [{ m: 'a', v: Infinity }] }],
  ['value NaN', { ...good, samples: [{ m: 'a', v: NaN }] }],
  ['sample null', { ...good, samples: [null] }],
  ['sample array', { ...good, samples: [['a', 1]] }],
  ['labels array', { ...good, samples: [{ m: 'a', v: 1, l: ['x'] }] }],
  ['labels null', { ...good, samples: [{ m: 'a', v: 1, l: null }] }],
  ['labels undefined', { ...good, samples: [{ m: 'a', v: 1, l: undefined }] }],
  ['9 labels', { ...good, samples: [{ m: 'a', v: 1, l: Object.fromEntries(Array.from({ length: 9 }, (_, i) => [`k${i}`, 'v'])) }] }],
  ['8 labels', { ...good, samples: [{ m: 'a', v: 1, l: Object.fromEntries(Array.from({ length: 8 }, (_, i) => [`k${i}`, 'v'])) }] }],
  ['label key upper-case', { ...good, samples: [{ m: 'a', v: 1, l: { Core: '0' } }] }],
  ['label key 33 chars', { ...good, samples: [{ m: 'a', v: 1, l: { ['k'.repeat(33)]: '0' } }] }],
  ['__proto__ label key', JSON.parse('{"seq":1,"ts":1,"samples":[{"m":"a","v":1,"l":{"__proto__":"x"}}]}')],
  ['label value number', { ...good, samples: [{ m: 'a', v: 1, l: { core: 0 } }] }],
  ['label value control char', { ...good, samples: [{ m: 'a', v: 1, l: { core: 'a\nb' } }] }],
  ['label value 129 chars', { ...good, samples: [{ m: 'a', v: 1, l: { core: 'x'.repeat(129) } }] }],
  ['sample t negative', { ...good, samples: [{ m: 'a', v: 1, t: -5 }] }],
  ['sample t fractional', { ...good, samples: [{ m: 'a', v: 1, t: 0.5 }] }],
  ['replay a string', { ...good, replay: 'yes' }],
  ['dropped missing samples', { ...good, dropped: { batches: 1 } }],
  ['dropped extra key', { ...good, dropped: { batches: 1, samples: 1, x: 1 } }],
  ['batch an array', [good]],
  ['batch null', null],
  ['batch a string', 'x'],
];

test('the hand-written check accepts only what zod accepts unchanged, and checkTelemetryBatch agrees with zod', () => {
  for (const [name, value] of variants) {
    const zod = TelemetryBatch.safeParse(value);
    if (isPlainTelemetryBatch(value)) {
      assert.ok(zod.success, `${name}: accepted by the hand check, refused by zod`);
      assert.equal(zod.data, value, `${name}: zod would have changed the value`);
    }
    const checked = checkTelemetryBatch(value);
    assert.is(checked.ok, zod.success, `${name}: checkTelemetryBatch disagrees with zod`);
    if (checked.ok && zod.success) assert.equal(checked.value, zod.data, name);
  }
});

test('the plain cases the agent sends take the fast path', () => {
  for (const name of ['good', 'replay and dropped', 'no samples', '8 labels', 'metric of 128']) {
    const value = variants.find(([n]) => n === name)?.[1];
    assert.ok(isPlainTelemetryBatch(value), name);
  }
});

test('a refusal still explains itself (zod)', () => {
  const checked = checkTelemetryBatch({ ...good, samples: [{ m: 'a', v: 1, l: { core: 'a\nb' } }] });
  assert.not.ok(checked.ok);
  if (!checked.ok) assert.match(checked.error, /control characters/);
});

test.run();
