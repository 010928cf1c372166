import { z } from 'zod';
import { HwKeyName, KvmBool } from './hardware.js';

/**
 * Mouse and keyboard input beyond single keys: the RPCs the control plane calls, the kvmd
 * query strings of `/api/hid/...`, and the HID events of kvmd's websocket (JSON and binary).
 * Coordinates and deltas use kvmd's ranges: absolute -32768..32767 (the whole screen), deltas
 * -127..127 (clamped, as kvmd's validators do).
 */

export const MOUSE_BUTTONS = ['left', 'right', 'middle', 'up', 'down'] as const;
export const MouseButton = z.enum(MOUSE_BUTTONS);
export type MouseButton = z.infer<typeof MouseButton>;
export const MOUSE_MIN = -32768;
export const MOUSE_MAX = 32767;
export const DELTA_MAX = 127;

const clamp = (min: number, max: number) => (v: number) => Math.min(max, Math.max(min, Math.trunc(v)));
/** kvmd's valid_hid_mouse_move: any number, clamped to the range. */
export const MouseCoord = z.number().finite().transform(clamp(MOUSE_MIN, MOUSE_MAX));
/** kvmd's valid_hid_mouse_delta: any number, clamped to -127..127. */
export const MouseDelta = z.number().finite().transform(clamp(-DELTA_MAX, DELTA_MAX));
const Delta = z.object({ x: MouseDelta, y: MouseDelta });

/** One input event for the device's HID gadget, in the order the operator made them. */
export const HidInputEvent = z.discriminatedUnion('t', [
  z.object({ t: z.literal('key'), key: HwKeyName, state: z.boolean() }).strict(),
  z.object({ t: z.literal('button'), button: MouseButton, state: z.boolean() }).strict(),
  z.object({ t: z.literal('move'), x: MouseCoord, y: MouseCoord }).strict(),
  z.object({ t: z.literal('relative'), x: MouseDelta, y: MouseDelta }).strict(),
  z.object({ t: z.literal('wheel'), x: MouseDelta, y: MouseDelta }).strict(),
]);
export type HidInputEvent = z.input<typeof HidInputEvent>;

export const KeyboardOutput = z.enum(['usb', 'ps2', 'disabled']);
export const MouseOutput = z.enum(['usb', 'usb_win98', 'usb_rel', 'ps2', 'disabled']);
export const HidKeymaps = z.object({ keymaps: z.object({ default: z.string(), available: z.array(z.string()) }) });
export type HidKeymaps = z.infer<typeof HidKeymaps>;

export const hidRpcDefinitions = {
  /** A batch of input events applied in order (the websocket and REST both end here). */
  'hid.events': { params: z.object({ events: z.array(HidInputEvent).min(1).max(512) }).strict(), result: z.object({ applied: z.number().int() }) },
  /** Press all keys in order, release in reverse, 50 ms apart (kvmd send_shortcut). */
  'hid.shortcut': { params: z.object({ keys: z.array(HwKeyName).min(1).max(16) }).strict(), result: z.object({}) },
  'hid.setParams': { params: z.object({ keyboard_output: KeyboardOutput.optional(), mouse_output: MouseOutput.optional(), jiggler: z.boolean().optional() }).strict(), result: z.object({}) },
  /** Releases every key and button and sends empty reports (kvmd hid/reset). */
  'hid.reset': { params: z.object({}).strict(), result: z.object({}) },
  'hid.keymaps': { params: z.object({}).strict(), result: HidKeymaps },
  /** The last mouse reports written (hex), newest last, like hid.reports for the keyboard. */
  'hid.mouseReports': { params: z.object({ clear: z.boolean().default(false) }).strict(), result: z.object({ absolute: z.boolean(), reports: z.array(z.string()) }) },
  /** Whole seconds since the last operator input (kvmd hid/inactivity; the jiggler's clock). */
  'hid.inactivity': { params: z.object({}).strict(), result: z.object({ inactivity: z.number().int().min(0) }) },
} as const;

// ---- kvmd query strings (`/api/hid/...`); numbers arrive as text ----
const KvmNumber = z.string().transform((v, ctx) => {
  const n = Number(v.trim());
  if (v.trim() === '' || !Number.isFinite(n)) {
    ctx.addIssue({ code: 'custom', message: `the argument ${JSON.stringify(v)} is not a valid number` });
    return z.NEVER;
  }
  return n;
});
export const KvmMouseButtonQuery = z.object({ button: MouseButton, state: KvmBool.optional() });
export const KvmMouseMoveQuery = z.object({ to_x: KvmNumber.pipe(MouseCoord), to_y: KvmNumber.pipe(MouseCoord) });
export const KvmMouseDeltaQuery = z.object({ delta_x: KvmNumber.pipe(MouseDelta), delta_y: KvmNumber.pipe(MouseDelta) });
/** `keys=ControlLeft,AltLeft,Delete` */
export const KvmShortcutQuery = z.object({
  keys: z
    .string()
    .max(1024)
    .transform((v) => v.split(',').map((k) => k.trim()).filter(Boolean))
    .pipe(z.array(HwKeyName).max(16)),
});
/** kvmd hid/set_connected: `connected` is required; an OTG gadget cannot unplug, so kvmd ignores it. */
export const KvmHidConnectedQuery = z.object({ connected: KvmBool });
export const KvmHidSetParamsQuery = z.object({ keyboard_output: KeyboardOutput.optional(), mouse_output: MouseOutput.optional(), jiggler: KvmBool.optional() });
/** kvmd's `delay` for hid/print: seconds between keys, 0..5 (0.02 when slow and not given). */
export const KvmPrintDelay = KvmNumber.pipe(z.number().min(0).max(5));

// ---- kvmd websocket JSON HID events ----
const WsBool = z.union([z.boolean(), KvmBool]);
export const KvmWsKey = z.object({ key: HwKeyName, state: WsBool, finish: WsBool.optional() });
export const KvmWsMouseButton = z.object({ button: MouseButton, state: WsBool });
export const KvmWsMouseMove = z.object({ to: z.object({ x: MouseCoord, y: MouseCoord }) });
export const KvmWsMouseDelta = z.object({ delta: z.union([Delta, z.array(Delta).max(512)]), squash: WsBool.optional() });

/**
 * kvmd's binary websocket messages (first byte = operation):
 * 0 ping (answered with the single byte 255); 1 key: flags (bit0 state, bit1 finish, bit7 evdev
 * code follows as u16) then the key name in ASCII; 2 mouse button: flags then the button name;
 * 3 absolute move: two big-endian i16; 4 relative and 5 wheel: flags (bit0 squash) then pairs of i8.
 */
export const KvmBinaryOp = { ping: 0, key: 1, mouseButton: 2, mouseMove: 3, mouseRelative: 4, mouseWheel: 5, pong: 255 } as const;
