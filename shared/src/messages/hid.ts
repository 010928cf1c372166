import * as z from '../zod.js';
import { transformIssue } from '../zod.js';
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
export const MouseCoord = z.pipe(z.number(), z.transform(clamp(MOUSE_MIN, MOUSE_MAX)));
/** kvmd's valid_hid_mouse_delta: any number, clamped to -127..127. */
export const MouseDelta = z.pipe(z.number(), z.transform(clamp(-DELTA_MAX, DELTA_MAX)));
const Delta = z.object({ x: MouseDelta, y: MouseDelta });

/** One input event for the device's HID gadget, in the order the operator made them. */
export const HidInputEvent = z.discriminatedUnion('t', [
  z.strictObject({ t: z.literal('key'), key: HwKeyName, state: z.boolean() }),
  z.strictObject({ t: z.literal('button'), button: MouseButton, state: z.boolean() }),
  z.strictObject({ t: z.literal('move'), x: MouseCoord, y: MouseCoord }),
  z.strictObject({ t: z.literal('relative'), x: MouseDelta, y: MouseDelta }),
  z.strictObject({ t: z.literal('wheel'), x: MouseDelta, y: MouseDelta }),
]);
export type HidInputEvent = z.input<typeof HidInputEvent>;

export const KeyboardOutput = z.enum(['usb', 'ps2', 'disabled']);
export const MouseOutput = z.enum(['usb', 'usb_win98', 'usb_rel', 'ps2', 'disabled']);
export const HidKeymaps = z.object({ keymaps: z.object({ default: z.string(), available: z.array(z.string()) }) });
export type HidKeymaps = z.infer<typeof HidKeymaps>;

export const hidRpcDefinitions = {
  /** A batch of input events applied in order (the websocket and REST both end here). */
  'hid.events': { params: z.strictObject({ events: z.array(HidInputEvent).check(z.minLength(1), z.maxLength(512)) }), result: z.object({ applied: z.number().check(z.int()) }) },
  /** Press all keys in order, release in reverse, 50 ms apart (kvmd send_shortcut). */
  'hid.shortcut': { params: z.strictObject({ keys: z.array(HwKeyName).check(z.minLength(1), z.maxLength(16)) }), result: z.object({}) },
  'hid.setParams': { params: z.strictObject({ keyboard_output: z.optional(KeyboardOutput), mouse_output: z.optional(MouseOutput), jiggler: z.optional(z.boolean()) }), result: z.object({}) },
  /** Releases every key and button and sends empty reports (kvmd hid/reset). */
  'hid.reset': { params: z.strictObject({}), result: z.object({}) },
  'hid.keymaps': { params: z.strictObject({}), result: HidKeymaps },
  /** The last mouse reports written (hex), newest last, like hid.reports for the keyboard. */
  'hid.mouseReports': { params: z.strictObject({ clear: z._default(z.boolean(), false) }), result: z.object({ absolute: z.boolean(), reports: z.array(z.string()) }) },
  /** Whole seconds since the last operator input (kvmd hid/inactivity; the jiggler's clock). */
  'hid.inactivity': { params: z.strictObject({}), result: z.object({ inactivity: z.number().check(z.int(), z.gte(0)) }) },
} as const;

// ---- kvmd query strings (`/api/hid/...`); numbers arrive as text ----
const KvmNumber = z.pipe(z.string(), z.transform((v, ctx) => {
  const n = Number(v.trim());
  if (v.trim() === '' || !Number.isFinite(n)) {
    transformIssue(ctx, `the argument ${JSON.stringify(v)} is not a valid number`);
    return z.NEVER;
  }
  return n;
}));
export const KvmMouseButtonQuery = z.object({ button: MouseButton, state: z.optional(KvmBool) });
export const KvmMouseMoveQuery = z.object({ to_x: z.pipe(KvmNumber, MouseCoord), to_y: z.pipe(KvmNumber, MouseCoord) });
export const KvmMouseDeltaQuery = z.object({ delta_x: z.pipe(KvmNumber, MouseDelta), delta_y: z.pipe(KvmNumber, MouseDelta) });
/** `keys=ControlLeft,AltLeft,Delete` */
export const KvmShortcutQuery = z.object({
  keys: z.pipe(z.pipe(z.string().check(z.maxLength(1024)), z.transform((v) => v.split(',').map((k) => k.trim()).filter(Boolean))), z.array(HwKeyName).check(z.maxLength(16))),
});
/** kvmd hid/set_connected: `connected` is required; an OTG gadget cannot unplug, so kvmd ignores it. */
export const KvmHidConnectedQuery = z.object({ connected: KvmBool });
export const KvmHidSetParamsQuery = z.object({ keyboard_output: z.optional(KeyboardOutput), mouse_output: z.optional(MouseOutput), jiggler: z.optional(KvmBool) });
/** kvmd's `delay` for hid/print: seconds between keys, 0..5 (0.02 when slow and not given). */
export const KvmPrintDelay = z.pipe(KvmNumber, z.number().check(z.gte(0), z.lte(5)));

// ---- kvmd websocket JSON HID events ----
const WsBool = z.union([z.boolean(), KvmBool]);
export const KvmWsKey = z.object({ key: HwKeyName, state: WsBool, finish: z.optional(WsBool) });
export const KvmWsMouseButton = z.object({ button: MouseButton, state: WsBool });
export const KvmWsMouseMove = z.object({ to: z.object({ x: MouseCoord, y: MouseCoord }) });
export const KvmWsMouseDelta = z.object({ delta: z.union([Delta, z.array(Delta).check(z.maxLength(512))]), squash: z.optional(WsBool) });

/**
 * kvmd's binary websocket messages (first byte = operation):
 * 0 ping (answered with the single byte 255); 1 key: flags (bit0 state, bit1 finish, bit7 evdev
 * code follows as u16) then the key name in ASCII; 2 mouse button: flags then the button name;
 * 3 absolute move: two big-endian i16; 4 relative and 5 wheel: flags (bit0 squash) then pairs of i8.
 */
export const KvmBinaryOp = { ping: 0, key: 1, mouseButton: 2, mouseMove: 3, mouseRelative: 4, mouseWheel: 5, pong: 255 } as const;
