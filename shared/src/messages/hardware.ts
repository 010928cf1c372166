import * as z from '../zod.js';
import { transformIssue } from '../zod.js';
import { MsdState, StreamerState } from './kvm-media.js';

/**
 * Hardware (GPIO, ATX, HID, serial, I2C, info, log): the RPC methods the control plane calls on
 * an agent, and the state events the agent publishes. State shapes follow PiKVM (kvmd) so the
 * /kvm facade can pass them through unchanged.
 */

export const HwChannel = z.string().check(z.regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, 'a channel name is 1-64 letters, digits, _ . -'));
/** Web KeyboardEvent.code names, as PiKVM uses them (KeyA, Enter, ShiftLeft...). */
export const HwKeyName = z.string().check(z.regex(/^[A-Za-z0-9]{1,32}$/, 'a key name like KeyA, Enter or ShiftLeft'));

// ---- PiKVM-shaped states ----
const PulseView = z.object({ delay: z.number(), min_delay: z.number(), max_delay: z.number() });
/** `pin` is a string, as kvmd 4.x sends it (classic kvmd sent a number; the event socket's classic events still do). */
const HwRef = z.object({ driver: z.string(), pin: z.string() });
export const GpioModel = z.object({
  scheme: z.object({
    inputs: z.record(z.string(), z.object({ hw: HwRef })),
    outputs: z.record(z.string(), z.object({ switch: z.boolean(), pulse: PulseView, hw: HwRef })),
  }),
  /** kvmd 4.x: the title is a list of view items ([{type: 'label', text}]). */
  view: z.object({ header: z.object({ title: z.array(z.record(z.string(), z.unknown())) }), table: z.array(z.nullable(z.array(z.record(z.string(), z.unknown())))) }),
});
export type GpioModel = z.infer<typeof GpioModel>;

export const GpioState = z.object({
  inputs: z.record(z.string(), z.object({ online: z.boolean(), state: z.boolean() })),
  outputs: z.record(z.string(), z.object({ online: z.boolean(), state: z.boolean(), busy: z.boolean() })),
});
export type GpioState = z.infer<typeof GpioState>;

/** `acts`: which button is being held right now (kvmd 4.x). */
export const AtxState = z.object({ enabled: z.boolean(), busy: z.boolean(), acts: z.object({ power: z.boolean(), reset: z.boolean() }), leds: z.object({ power: z.boolean(), hdd: z.boolean() }) });
export type AtxState = z.infer<typeof AtxState>;

const HidOutputs = z.object({ available: z.array(z.string()), active: z.string() });
/** kvmd 4.x's HID state (`pressed` is ours: the keys held right now). */
export const HidState = z.object({
  enabled: z.boolean(),
  online: z.boolean(),
  busy: z.boolean(),
  connected: z.nullable(z.boolean()),
  keyboard: z.object({ online: z.boolean(), leds: z.object({ caps: z.boolean(), scroll: z.boolean(), num: z.boolean() }), outputs: HidOutputs, pressed: z.array(z.string()) }),
  mouse: z.object({ online: z.boolean(), absolute: z.boolean(), outputs: HidOutputs }),
  jiggler: z.object({ enabled: z.boolean(), active: z.boolean(), interval: z.number() }),
});
export type HidState = z.infer<typeof HidState>;

const Flag = z.object({ now: z.boolean(), past: z.boolean() });
export const InfoHw = z.object({
  platform: z.object({ type: z.string(), base: z.nullable(z.string()), profile: z.string() }),
  health: z.object({
    temp: z.record(z.string(), z.nullable(z.number())),
    throttling: z.nullable(z.object({ raw_flags: z.number(), parsed_flags: z.object({ undervoltage: Flag, freq_capped: Flag, throttled: Flag }) })),
  }),
});
/**
 * What `info.system.kvmd.version` says: the kvmd release whose HTTP API the facade was checked
 * against (pikvm/kvmd 4.197, see docs/pikvm.md). Clients parse it as kvmd's "major.minor" and
 * gate features on it; Edgehook's own version is beside it, in `info.system.edgehook`.
 */
export const KVMD_COMPAT_VERSION = '4.197';

export const InfoSystem = z.object({
  kvmd: z.object({ version: z.string() }),
  edgehook: z.object({ agent: z.string(), node: z.string() }),
  streamer: z.null(),
  kernel: z.object({ system: z.string(), release: z.string(), version: z.string(), machine: z.string() }),
});
export const InfoMeta = z.object({ server: z.object({ host: z.string() }), kvm: z.record(z.string(), z.unknown()) });
export const InfoFields = ['system', 'hw', 'meta', 'extras'] as const;
export const InfoField = z.enum(InfoFields);
export const Info = z.object({ system: z.optional(InfoSystem), hw: z.optional(InfoHw), meta: z.optional(InfoMeta), extras: z.optional(z.record(z.string(), z.unknown())) });
export type Info = z.infer<typeof Info>;

/** Everything the PiKVM websocket sends on connect, in one round trip. */
export const HwSnapshot = z.object({ gpioModel: GpioModel, gpio: GpioState, atx: AtxState, hid: HidState, info: Info, streamer: StreamerState, msd: MsdState, keymaps: z.object({ default: z.string(), available: z.array(z.string()) }) });
export type HwSnapshot = z.infer<typeof HwSnapshot>;

// ---- device -> control plane state events (topic hwState) ----
export const HwEvent = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('gpio'), ts: z.number(), state: GpioState }),
  z.object({ kind: z.literal('atx'), ts: z.number(), state: AtxState }),
  z.object({ kind: z.literal('hid'), ts: z.number(), state: HidState }),
  z.object({ kind: z.literal('streamer'), ts: z.number(), state: StreamerState }),
  z.object({ kind: z.literal('msd'), ts: z.number(), state: MsdState }),
]);
export type HwEvent = z.infer<typeof HwEvent>;

// ---- RPC params and results ----
export const AtxPowerAction = z.enum(['on', 'off', 'off_hard', 'reset_hard']);
export const AtxButton = z.enum(['power', 'power_long', 'reset']);
/** Seconds, as PiKVM; 0 means the channel's default. */
export const PulseDelay = z.number().check(z.gte(0), z.lte(3600));

export const LogLine = z.object({ seq: z.number().check(z.int()), ts: z.number(), line: z.string() });
export const I2cReading = z.object({ name: z.string(), bus: z.number(), address: z.number(), metric: z.string(), unit: z.string(), value: z.nullable(z.number()), error: z.optional(z.string()) });
export const SerialPortView = z.object({ name: z.string(), path: z.string(), baud: z.number(), title: z.optional(z.string()) });

const Done = z.object({ done: z.boolean(), durationMs: z.optional(z.number()) });

export const hardwareRpcDefinitions = {
  'hw.snapshot': { params: z.strictObject({}), result: HwSnapshot },
  info: { params: z.strictObject({ fields: z.optional(z.array(InfoField)) }), result: Info },
  log: {
    params: z.strictObject({ seekSec: z.optional(z.number().check(z.gte(0))), afterSeq: z.optional(z.number().check(z.int())), limit: z.optional(z.number().check(z.int(), z.gte(1), z.lte(10_000))) }),
    result: z.object({ lines: z.array(LogLine), lastSeq: z.number().check(z.int()) }),
  },
  'gpio.state': { params: z.strictObject({}), result: z.object({ model: GpioModel, state: GpioState }) },
  'gpio.switch': { params: z.strictObject({ channel: HwChannel, state: z.boolean(), wait: z._default(z.boolean(), false) }), result: Done },
  'gpio.pulse': { params: z.strictObject({ channel: HwChannel, delay: z._default(PulseDelay, 0), wait: z._default(z.boolean(), false) }), result: Done },
  'atx.state': { params: z.strictObject({}), result: AtxState },
  'atx.power': { params: z.strictObject({ action: AtxPowerAction, wait: z._default(z.boolean(), false) }), result: Done },
  'atx.click': { params: z.strictObject({ button: AtxButton, wait: z._default(z.boolean(), false) }), result: Done },
  'hid.state': { params: z.strictObject({}), result: HidState },
  /** `state` absent = press and release (PiKVM send_key). */
  'hid.key': { params: z.strictObject({ key: HwKeyName, state: z.optional(z.boolean()) }), result: z.object({}) },
  'hid.print': {
    /** `delaySec`: pause between key reports (kvmd's `delay`); the agent's default when absent. */
    params: z.strictObject({ text: z.string().check(z.maxLength(65_536)), limit: z.optional(z.number().check(z.int(), z.gte(0), z.lte(1_000_000))), keymap: z.optional(z.string().check(z.maxLength(64))), slow: z._default(z.boolean(), false), delaySec: z.optional(z.number().check(z.gte(0), z.lte(5))) }),
    result: z.object({ chars: z.number().check(z.int()), skipped: z.number().check(z.int()) }),
  },
  'hid.releaseAll': { params: z.strictObject({}), result: z.object({}) },
  /** The last keyboard reports written (hex), newest last: lets tests check what reached the gadget. */
  'hid.reports': { params: z.strictObject({ clear: z._default(z.boolean(), false) }), result: z.object({ reports: z.array(z.string()) }) },
  'i2c.read': { params: z.strictObject({}), result: z.object({ sensors: z.array(I2cReading) }) },
  'serial.list': { params: z.strictObject({}), result: z.object({ ports: z.array(SerialPortView) }) },
  /** Writes `data` (UTF-8) and returns what the port sent back within `readMs`. */
  'serial.exchange': {
    params: z.strictObject({ port: HwChannel, data: z.string().check(z.maxLength(65_536)), baud: z.optional(z.number().check(z.int(), z.positive())), readMs: z._default(z.number().check(z.int(), z.gte(0), z.lte(10_000)), 200) }),
    result: z.object({ data: z.string() }),
  },
} as const;

/** PiKVM's error class name, carried in an EdgehookError's details across the RPC. */
export const PikvmErrorDetails = z.object({ pikvmError: z.string().check(z.maxLength(64)) });

// ---- PiKVM query-string values (kvmd validators) ----
const TRUE_WORDS = new Set(['1', 'true', 'yes', 'on']);
const FALSE_WORDS = new Set(['0', 'false', 'no', 'off']);
/** kvmd's valid_bool: 1/true/yes/on and 0/false/no/off, any case. */
export const KvmBool = z.pipe(z.string(), z.transform((v, ctx) => {
  const w = v.trim().toLowerCase();
  if (TRUE_WORDS.has(w)) return true;
  if (FALSE_WORDS.has(w)) return false;
  transformIssue(ctx, `the argument must be a bool (1/0, true/false, yes/no, on/off), got ${JSON.stringify(v)}`);
  return z.NEVER;
}));
/** kvmd's valid_float_f0: a finite number >= 0. */
export const KvmFloat0 = z.pipe(z.string(), z.transform((v, ctx) => {
  const n = Number(v.trim());
  if (v.trim() === '' || !Number.isFinite(n) || n < 0) {
    transformIssue(ctx, `the argument must be a float >= 0, got ${JSON.stringify(v)}`);
    return z.NEVER;
  }
  return n;
}));
export const KvmInt0 = z.pipe(z.string().check(z.regex(/^\d{1,9}$/, 'the argument must be an integer >= 0')), z.transform(Number));

export const KvmGpioSwitchQuery = z.object({ channel: HwChannel, state: KvmBool, wait: z._default(KvmBool, false) });
export const KvmGpioPulseQuery = z.object({ channel: HwChannel, delay: z._default(KvmFloat0, 0), wait: z._default(KvmBool, false) });
export const KvmAtxPowerQuery = z.object({ action: AtxPowerAction, wait: z._default(KvmBool, false) });
export const KvmAtxClickQuery = z.object({ button: AtxButton, wait: z._default(KvmBool, false) });
export const KvmSendKeyQuery = z.object({ key: HwKeyName, state: z.optional(KvmBool), finish: z._default(KvmBool, false) });
export const KvmPrintQuery = z.object({ limit: z.optional(KvmInt0), keymap: z.optional(z.string().check(z.maxLength(64))), slow: z._default(KvmBool, false), delay: z.optional(z.pipe(KvmFloat0, z.number().check(z.lte(5)))) });
export const KvmLogQuery = z.object({ seek: z._default(KvmInt0, 0), follow: z._default(KvmBool, false) });
/** `legacy` defaults to true, as in kvmd: legacy=0 asks for the 4.x shape (system.platform, health...). */
export const KvmInfoQuery = z.object({ fields: z.optional(z.string().check(z.maxLength(200))), legacy: z._default(KvmBool, true) });

/** Frames a PiKVM websocket client may send. Unknown event types are ignored, as kvmd does. */
export const KvmClientFrame = z.object({ event_type: z.string().check(z.maxLength(64)), event: z.optional(z.unknown()) });
export const KvmKeyEvent = z.object({ key: HwKeyName, state: z.boolean() });

// ---- Edgehook's own REST bodies ----
export const HwSwitchBody = z.strictObject({ state: z.boolean(), wait: z._default(z.boolean(), false) });
export const HwPulseBody = z.strictObject({ delay: z._default(PulseDelay, 0), wait: z._default(z.boolean(), false) });
export const HwPowerBody = z.strictObject({ action: AtxPowerAction, wait: z._default(z.boolean(), false) });
export const HwClickBody = z.strictObject({ button: AtxButton, wait: z._default(z.boolean(), false) });
export const HwKeyBody = z.strictObject({ key: HwKeyName, state: z.optional(z.boolean()) });
export const HwPrintBody = z.strictObject({ text: z.string().check(z.minLength(1), z.maxLength(65_536)), limit: z.optional(z.number().check(z.int(), z.gte(0), z.lte(1_000_000))), keymap: z.optional(z.string().check(z.maxLength(64))), slow: z._default(z.boolean(), false) });
export const HwSerialExchangeBody = z.strictObject({ data: z.string().check(z.maxLength(65_536)), baud: z.optional(z.number().check(z.int(), z.positive())), readMs: z._default(z.number().check(z.int(), z.gte(0), z.lte(10_000)), 200) });
export const HwDone = Done;

// ---- serial console relay (stream kind 'serial', socket /api/devices/:id/serial) ----
/** Opens a profile serial port as a byte stream; the first port when none is named. */
export const SerialOpenSpec = z.strictObject({ port: z.optional(HwChannel), baud: z.optional(z.number().check(z.int(), z.positive(), z.lte(4_000_000))) });
/** Operator -> control plane text frames on the serial socket (binary frames are bytes to the port). */
export const SerialClientMessage = z.discriminatedUnion('type', [
  z.object({ type: z.literal('open'), port: z.optional(HwChannel), baud: z.optional(z.number().check(z.int(), z.positive(), z.lte(4_000_000))) }),
  z.object({ type: z.literal('close') }),
]);
export type SerialClientMessage = z.infer<typeof SerialClientMessage>;
