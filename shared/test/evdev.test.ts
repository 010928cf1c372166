import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, readFileSync } from 'node:fs';
import { EVDEV_KEYS, EVDEV_MOUSE_BUTTONS, keyNameOfEvdev, mouseButtonOfEvdev } from '../src/messages/evdev.js';

const HEADER = '/usr/include/linux/input-event-codes.h';

/** The kernel's own numbers (linux-libc-dev), so a typo in the table cannot pass. */
function kernelCodes(): Map<string, number> {
  if (!existsSync(HEADER)) {
    if (process.env['CI'] === 'true') throw new Error(`${HEADER} is missing (apt-get install linux-libc-dev)`);
    return new Map();
  }
  const codes = new Map<string, number>();
  for (const m of readFileSync(HEADER, 'utf8').matchAll(/#define\s+((?:KEY|BTN)_[A-Z0-9_]+)\s+(0x[0-9a-fA-F]+|\d+)/g)) codes.set(m[1] ?? '', Number(m[2]));
  return codes;
}

test('every evdev code matches linux/input-event-codes.h', () => {
  const codes = kernelCodes();
  if (codes.size === 0) return;
  for (const [name, [code, macro]] of [...Object.entries(EVDEV_KEYS), ...Object.entries(EVDEV_MOUSE_BUTTONS)]) assert.is(code, codes.get(macro), `${name} (${macro})`);
});

test('codes map back to one name each', () => {
  assert.is(keyNameOfEvdev.size, Object.keys(EVDEV_KEYS).length, 'no two keys share a code');
  assert.is(keyNameOfEvdev.get(30), 'KeyA');
  assert.is(keyNameOfEvdev.get(0x1b6), 'ContextMenu');
  assert.is(mouseButtonOfEvdev.get(0x110), 'left');
  assert.is(mouseButtonOfEvdev.get(0x116), 'up');
  assert.is(keyNameOfEvdev.get(0x2ff), undefined);
});

test.run();
