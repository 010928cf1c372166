import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { HidgSink, SimHidSink, type HidReportSink } from '../../src/hardware/hid/hid.sink.js';
import { Keyboard } from '../../src/hardware/hid/keyboard.js';
import { isKnownKey, KEY_USAGES } from '../../src/hardware/hid/keymap.js';
import { rejection } from './helpers.js';

/** One suite over both sinks: the simulated one, and the real /dev/hidgN writer on a plain file. */
function keyboardContract(name: string, make: () => Promise<{ sink: HidReportSink; written: () => Promise<string[]> }>): void {
  const t = suite(`keyboard reports: ${name}`);
  const fast = { printIntervalMs: 0, slowPrintIntervalMs: 1 };

  t('press and release give 8-byte boot reports [mods, 0, keys...]', async () => {
    const { sink, written } = await make();
    const kb = new Keyboard(sink, fast);
    await kb.key('ShiftLeft', true);
    await kb.key('KeyA', true);
    await kb.key('KeyA', false);
    await kb.key('ShiftLeft', false);
    await kb.key('Enter', undefined);
    assert.equal(await written(), [
      '0200000000000000',
      '0200040000000000',
      '0200000000000000',
      '0000000000000000',
      '0000280000000000',
      '0000000000000000',
    ]);
  });

  t('six keys at most; a repeated press changes nothing; releaseAll clears everything', async () => {
    const { sink, written } = await make();
    const kb = new Keyboard(sink, fast);
    for (const k of ['KeyA', 'KeyB', 'KeyC', 'KeyD', 'KeyE', 'KeyF', 'KeyG']) await kb.key(k, true);
    await kb.key('KeyA', true);
    await kb.key('ControlRight', true);
    assert.equal(kb.view().pressed, ['ControlRight', 'KeyA', 'KeyB', 'KeyC', 'KeyD', 'KeyE', 'KeyF']);
    await kb.releaseAll();
    const reports = await written();
    assert.is(reports.length, 8);
    assert.is(reports[6], '1000040506070809');
    assert.is(reports.at(-1), '0000000000000000');
    assert.equal(kb.view().pressed, []);
  });

  t('print types text with shift where the US keymap needs it and skips what it cannot type', async () => {
    const { sink, written } = await make();
    const kb = new Keyboard(sink, fast);
    const r = await kb.print('Hi!\n€', { limit: undefined });
    assert.equal(r, { chars: 4, skipped: 1 });
    assert.equal(await written(), [
      '02000b0000000000', '0000000000000000', // H
      '00000c0000000000', '0000000000000000', // i
      '02001e0000000000', '0000000000000000', // !
      '0000280000000000', '0000000000000000', // Enter
    ]);
    assert.equal(await kb.print('abcdef', { limit: 2 }), { chars: 2, skipped: 0 });
  });

  t('unknown keys and keymaps are refused before anything is written', async () => {
    const { sink, written } = await make();
    const kb = new Keyboard(sink, fast);
    const bad = await rejection(kb.key('KeyÄ', true));
    assert.is(bad.pikvm, 'ValidatorError');
    assert.match(bad.message, /unknown key/);
    assert.is((await rejection(kb.key('Hyper', undefined))).code, 'BAD_REQUEST');
    assert.is((await rejection(kb.print('x', { keymap: 'xx-yy' }))).pikvm, 'ValidatorError');
    assert.equal(await written(), []);
  });

  t.run();
}

keyboardContract('simulated sink', async () => {
  const sink = new SimHidSink();
  return { sink, written: async () => sink.reports().map((r) => r.toString('hex')) };
});

keyboardContract('hidg sink (real writer, on a file standing in for /dev/hidg0)', async () => {
  const path = join(await mkdtemp(join(tmpdir(), 'edgehook-hidg-')), 'hidg0');
  await writeFile(path, '');
  const sink = new HidgSink(path);
  return {
    sink,
    written: async () => {
      const bytes = await readFile(path);
      const out: string[] = [];
      for (let i = 0; i < bytes.length; i += 8) out.push(bytes.subarray(i, i + 8).toString('hex'));
      return out;
    },
  };
});

const misc = suite('hid keymap and gadget');

misc('usage ids match the HID usage tables', () => {
  assert.is(KEY_USAGES.get('KeyA'), 0x04);
  assert.is(KEY_USAGES.get('KeyZ'), 0x1d);
  assert.is(KEY_USAGES.get('Digit1'), 0x1e);
  assert.is(KEY_USAGES.get('Digit0'), 0x27);
  assert.is(KEY_USAGES.get('F12'), 0x45);
  assert.is(KEY_USAGES.get('ArrowUp'), 0x52);
  assert.ok(isKnownKey('MetaLeft'));
  assert.not.ok(isKnownKey('ShiftLeft2'));
});

misc('a missing gadget device makes the keyboard offline with a clear error', async () => {
  const kb = new Keyboard(new HidgSink('/nonexistent/hidg0'));
  const err = await rejection(kb.key('KeyA', true));
  assert.is(err.pikvm, 'HidOfflineError');
  assert.match(err.message, /ENOENT/);
  assert.is(kb.view().online, false);
});

misc('a profile without HID refuses keys', async () => {
  const kb = new Keyboard(undefined);
  assert.is((await rejection(kb.key('KeyA', true))).pikvm, 'HidDisabledError');
  assert.is(kb.view().online, false);
});

misc.run();
