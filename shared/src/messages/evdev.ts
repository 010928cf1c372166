/**
 * Linux evdev codes (linux/input-event-codes.h) of the key names and mouse buttons kvmd's binary
 * websocket messages may carry instead of a name (flag 0x80, a 16-bit big-endian code), paired as
 * kvmd pairs them (its WEB_TO_EVDEV and MOUSE_TO_EVDEV). A test checks each against the header.
 */
export const EVDEV_KEYS: Readonly<Record<string, readonly [code: number, macro: string]>> = {
  KeyA: [30, 'KEY_A'], KeyB: [48, 'KEY_B'], KeyC: [46, 'KEY_C'], KeyD: [32, 'KEY_D'], KeyE: [18, 'KEY_E'], KeyF: [33, 'KEY_F'],
  KeyG: [34, 'KEY_G'], KeyH: [35, 'KEY_H'], KeyI: [23, 'KEY_I'], KeyJ: [36, 'KEY_J'], KeyK: [37, 'KEY_K'], KeyL: [38, 'KEY_L'],
  KeyM: [50, 'KEY_M'], KeyN: [49, 'KEY_N'], KeyO: [24, 'KEY_O'], KeyP: [25, 'KEY_P'], KeyQ: [16, 'KEY_Q'], KeyR: [19, 'KEY_R'],
  KeyS: [31, 'KEY_S'], KeyT: [20, 'KEY_T'], KeyU: [22, 'KEY_U'], KeyV: [47, 'KEY_V'], KeyW: [17, 'KEY_W'], KeyX: [45, 'KEY_X'],
  KeyY: [21, 'KEY_Y'], KeyZ: [44, 'KEY_Z'], Digit1: [2, 'KEY_1'], Digit2: [3, 'KEY_2'], Digit3: [4, 'KEY_3'], Digit4: [5, 'KEY_4'],
  Digit5: [6, 'KEY_5'], Digit6: [7, 'KEY_6'], Digit7: [8, 'KEY_7'], Digit8: [9, 'KEY_8'], Digit9: [10, 'KEY_9'], Digit0: [11, 'KEY_0'],
  Enter: [28, 'KEY_ENTER'], Escape: [1, 'KEY_ESC'], Backspace: [14, 'KEY_BACKSPACE'], Tab: [15, 'KEY_TAB'], Space: [57, 'KEY_SPACE'], Minus: [12, 'KEY_MINUS'],
  Equal: [13, 'KEY_EQUAL'], BracketLeft: [26, 'KEY_LEFTBRACE'], BracketRight: [27, 'KEY_RIGHTBRACE'], Backslash: [43, 'KEY_BACKSLASH'], Semicolon: [39, 'KEY_SEMICOLON'], Quote: [40, 'KEY_APOSTROPHE'],
  Backquote: [41, 'KEY_GRAVE'], Comma: [51, 'KEY_COMMA'], Period: [52, 'KEY_DOT'], Slash: [53, 'KEY_SLASH'], CapsLock: [58, 'KEY_CAPSLOCK'], F1: [59, 'KEY_F1'],
  F2: [60, 'KEY_F2'], F3: [61, 'KEY_F3'], F4: [62, 'KEY_F4'], F5: [63, 'KEY_F5'], F6: [64, 'KEY_F6'], F7: [65, 'KEY_F7'],
  F8: [66, 'KEY_F8'], F9: [67, 'KEY_F9'], F10: [68, 'KEY_F10'], F11: [87, 'KEY_F11'], F12: [88, 'KEY_F12'], F13: [183, 'KEY_F13'],
  F14: [184, 'KEY_F14'], F15: [185, 'KEY_F15'], F16: [186, 'KEY_F16'], F17: [187, 'KEY_F17'], F18: [188, 'KEY_F18'], F19: [189, 'KEY_F19'],
  F20: [190, 'KEY_F20'], F21: [191, 'KEY_F21'], F22: [192, 'KEY_F22'], F23: [193, 'KEY_F23'], F24: [194, 'KEY_F24'], PrintScreen: [99, 'KEY_SYSRQ'],
  Insert: [110, 'KEY_INSERT'], Home: [102, 'KEY_HOME'], PageUp: [104, 'KEY_PAGEUP'], Delete: [111, 'KEY_DELETE'], End: [107, 'KEY_END'], PageDown: [109, 'KEY_PAGEDOWN'],
  ArrowRight: [106, 'KEY_RIGHT'], ArrowLeft: [105, 'KEY_LEFT'], ArrowDown: [108, 'KEY_DOWN'], ArrowUp: [103, 'KEY_UP'], ControlLeft: [29, 'KEY_LEFTCTRL'], ShiftLeft: [42, 'KEY_LEFTSHIFT'],
  AltLeft: [56, 'KEY_LEFTALT'], MetaLeft: [125, 'KEY_LEFTMETA'], ControlRight: [97, 'KEY_RIGHTCTRL'], ShiftRight: [54, 'KEY_RIGHTSHIFT'], AltRight: [100, 'KEY_RIGHTALT'], MetaRight: [126, 'KEY_RIGHTMETA'],
  Pause: [119, 'KEY_PAUSE'], ScrollLock: [70, 'KEY_SCROLLLOCK'], NumLock: [69, 'KEY_NUMLOCK'], ContextMenu: [438, 'KEY_CONTEXT_MENU'], NumpadDivide: [98, 'KEY_KPSLASH'], NumpadMultiply: [55, 'KEY_KPASTERISK'],
  NumpadSubtract: [74, 'KEY_KPMINUS'], NumpadAdd: [78, 'KEY_KPPLUS'], NumpadEnter: [96, 'KEY_KPENTER'], Numpad1: [79, 'KEY_KP1'], Numpad2: [80, 'KEY_KP2'], Numpad3: [81, 'KEY_KP3'],
  Numpad4: [75, 'KEY_KP4'], Numpad5: [76, 'KEY_KP5'], Numpad6: [77, 'KEY_KP6'], Numpad7: [71, 'KEY_KP7'], Numpad8: [72, 'KEY_KP8'], Numpad9: [73, 'KEY_KP9'],
  Numpad0: [82, 'KEY_KP0'], NumpadDecimal: [83, 'KEY_KPDOT'], NumpadEqual: [117, 'KEY_KPEQUAL'], Power: [116, 'KEY_POWER'], IntlBackslash: [86, 'KEY_102ND'], IntlYen: [124, 'KEY_YEN'],
  IntlRo: [89, 'KEY_RO'], KanaMode: [90, 'KEY_KATAKANA'], Convert: [92, 'KEY_HENKAN'], NonConvert: [94, 'KEY_MUHENKAN'], AudioVolumeMute: [113, 'KEY_MUTE'], AudioVolumeUp: [115, 'KEY_VOLUMEUP'],
  AudioVolumeDown: [114, 'KEY_VOLUMEDOWN'],
};

export const EVDEV_MOUSE_BUTTONS: Readonly<Record<string, readonly [code: number, macro: string]>> = {
  left: [0x110, 'BTN_LEFT'], right: [0x111, 'BTN_RIGHT'], middle: [0x112, 'BTN_MIDDLE'], up: [0x116, 'BTN_BACK'], down: [0x115, 'BTN_FORWARD'],
};

const byCode = (table: Readonly<Record<string, readonly [number, string]>>): ReadonlyMap<number, string> => new Map(Object.entries(table).map(([name, [code]]) => [code, name]));
/** The key name for an evdev code, or undefined for a code we do not map (kvmd ignores those too). */
export const keyNameOfEvdev: ReadonlyMap<number, string> = byCode(EVDEV_KEYS);
export const mouseButtonOfEvdev: ReadonlyMap<number, string> = byCode(EVDEV_MOUSE_BUTTONS);
