/**
 * Web KeyboardEvent.code names (what PiKVM clients send) to USB HID usage ids (HID Usage
 * Tables, page 0x07), and text characters to keys for `print` on a US layout.
 */

/** Modifier keys are bits of the report's first byte, not key slots. */
export const MODIFIERS: Readonly<Record<string, number>> = {
  ControlLeft: 0x01,
  ShiftLeft: 0x02,
  AltLeft: 0x04,
  MetaLeft: 0x08,
  ControlRight: 0x10,
  ShiftRight: 0x20,
  AltRight: 0x40,
  MetaRight: 0x80,
};

function build(): Map<string, number> {
  const m = new Map<string, number>();
  for (let i = 0; i < 26; i++) m.set(`Key${String.fromCharCode(65 + i)}`, 0x04 + i);
  for (let i = 1; i <= 9; i++) m.set(`Digit${i}`, 0x1e + i - 1);
  m.set('Digit0', 0x27);
  for (let i = 1; i <= 12; i++) m.set(`F${i}`, 0x3a + i - 1);
  for (let i = 13; i <= 24; i++) m.set(`F${i}`, 0x68 + i - 13);
  for (let i = 1; i <= 9; i++) m.set(`Numpad${i}`, 0x59 + i - 1);
  const rest: [string, number][] = [
    ['Enter', 0x28], ['Escape', 0x29], ['Backspace', 0x2a], ['Tab', 0x2b], ['Space', 0x2c], ['Minus', 0x2d],
    ['Equal', 0x2e], ['BracketLeft', 0x2f], ['BracketRight', 0x30], ['Backslash', 0x31], ['Semicolon', 0x33],
    ['Quote', 0x34], ['Backquote', 0x35], ['Comma', 0x36], ['Period', 0x37], ['Slash', 0x38], ['CapsLock', 0x39],
    ['PrintScreen', 0x46], ['ScrollLock', 0x47], ['Pause', 0x48], ['Insert', 0x49], ['Home', 0x4a], ['PageUp', 0x4b],
    ['Delete', 0x4c], ['End', 0x4d], ['PageDown', 0x4e], ['ArrowRight', 0x4f], ['ArrowLeft', 0x50], ['ArrowDown', 0x51],
    ['ArrowUp', 0x52], ['NumLock', 0x53], ['NumpadDivide', 0x54], ['NumpadMultiply', 0x55], ['NumpadSubtract', 0x56],
    ['NumpadAdd', 0x57], ['NumpadEnter', 0x58], ['Numpad0', 0x62], ['NumpadDecimal', 0x63], ['IntlBackslash', 0x64],
    ['ContextMenu', 0x65], ['Power', 0x66], ['NumpadEqual', 0x67], ['AudioVolumeMute', 0x7f], ['AudioVolumeUp', 0x80],
    ['AudioVolumeDown', 0x81], ['IntlRo', 0x87], ['KanaMode', 0x88], ['IntlYen', 0x89], ['Convert', 0x8a], ['NonConvert', 0x8b],
  ];
  for (const [k, v] of rest) m.set(k, v);
  return m;
}

export const KEY_USAGES: ReadonlyMap<string, number> = build();

export function isKnownKey(name: string): boolean {
  return KEY_USAGES.has(name) || Object.hasOwn(MODIFIERS, name);
}

export interface CharKey {
  key: string;
  shift: boolean;
}

const US_SYMBOLS: [string, string, boolean][] = [
  [' ', 'Space', false], ['\n', 'Enter', false], ['\t', 'Tab', false],
  ['-', 'Minus', false], ['_', 'Minus', true], ['=', 'Equal', false], ['+', 'Equal', true],
  ['[', 'BracketLeft', false], ['{', 'BracketLeft', true], [']', 'BracketRight', false], ['}', 'BracketRight', true],
  ['\\', 'Backslash', false], ['|', 'Backslash', true], [';', 'Semicolon', false], [':', 'Semicolon', true],
  ["'", 'Quote', false], ['"', 'Quote', true], ['`', 'Backquote', false], ['~', 'Backquote', true],
  [',', 'Comma', false], ['<', 'Comma', true], ['.', 'Period', false], ['>', 'Period', true],
  ['/', 'Slash', false], ['?', 'Slash', true],
  ['!', 'Digit1', true], ['@', 'Digit2', true], ['#', 'Digit3', true], ['$', 'Digit4', true], ['%', 'Digit5', true],
  ['^', 'Digit6', true], ['&', 'Digit7', true], ['*', 'Digit8', true], ['(', 'Digit9', true], [')', 'Digit0', true],
];

function buildUs(): Map<string, CharKey> {
  const m = new Map<string, CharKey>();
  for (let i = 0; i < 26; i++) {
    const key = `Key${String.fromCharCode(65 + i)}`;
    m.set(String.fromCharCode(97 + i), { key, shift: false });
    m.set(String.fromCharCode(65 + i), { key, shift: true });
  }
  for (let i = 0; i <= 9; i++) m.set(String(i), { key: `Digit${i}`, shift: false });
  for (const [ch, key, shift] of US_SYMBOLS) m.set(ch, { key, shift });
  m.set('\r', { key: 'Enter', shift: false });
  return m;
}

/** Text keymaps by name (kvmd's `keymap` parameter); only en-us for now. */
export const TEXT_KEYMAPS: ReadonlyMap<string, ReadonlyMap<string, CharKey>> = new Map([['en-us', buildUs()]]);
