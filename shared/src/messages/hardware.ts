import { z } from 'zod';
import { MsdState, StreamerState } from './kvm-media.js';

/**
 * Hardware (GPIO, ATX, HID, serial, I2C, info, log): the RPC methods the control plane calls on
 * an agent, and the state events the agent publishes. State shapes follow PiKVM (kvmd) so the
 * /kvm facade can pass them through unchanged.
 */

export const HwChannel = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, 'a channel name is 1-64 letters, digits, _ . -');
/** Web KeyboardEvent.code names, as PiKVM uses them (KeyA, Enter, ShiftLeft...). */
export const HwKeyName = z.string().regex(/^[A-Za-z0-9]{1,32}$/, 'a key name like KeyA, Enter or ShiftLeft');

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
  view: z.object({ header: z.object({ title: z.array(z.record(z.string(), z.unknown())) }), table: z.array(z.array(z.record(z.string(), z.unknown())).nullable()) }),
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
  connected: z.boolean().nullable(),
  keyboard: z.object({ online: z.boolean(), leds: z.object({ caps: z.boolean(), scroll: z.boolean(), num: z.boolean() }), outputs: HidOutputs, pressed: z.array(z.string()) }),
  mouse: z.object({ online: z.boolean(), absolute: z.boolean(), outputs: HidOutputs }),
  jiggler: z.object({ enabled: z.boolean(), active: z.boolean(), interval: z.number() }),
});
export type HidState = z.infer<typeof HidState>;

const Flag = z.object({ now: z.boolean(), past: z.boolean() });
export const InfoHw = z.object({
  platform: z.object({ type: z.string(), base: z.string().nullable(), profile: z.string() }),
  health: z.object({
    temp: z.record(z.string(), z.number().nullable()),
    throttling: z.object({ raw_flags: z.number(), parsed_flags: z.object({ undervoltage: Flag, freq_capped: Flag, throttled: Flag }) }).nullable(),
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
export const Info = z.object({ system: InfoSystem.optional(), hw: InfoHw.optional(), meta: InfoMeta.optional(), extras: z.record(z.string(), z.unknown()).optional() });
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
export const PulseDelay = z.number().min(0).max(3600);

export const LogLine = z.object({ seq: z.number().int(), ts: z.number(), line: z.string() });
export const I2cReading = z.object({ name: z.string(), bus: z.number(), address: z.number(), metric: z.string(), unit: z.string(), value: z.number().nullable(), error: z.string().optional() });
export const SerialPortView = z.object({ name: z.string(), path: z.string(), baud: z.number(), title: z.string().optional() });

const Done = z.object({ done: z.boolean(), durationMs: z.number().optional() });

export const hardwareRpcDefinitions = {
  'hw.snapshot': { params: z.object({}).strict(), result: HwSnapshot },
  info: { params: z.object({ fields: z.array(InfoField).optional() }).strict(), result: Info },
  log: {
    params: z.object({ seekSec: z.number().min(0).optional(), afterSeq: z.number().int().optional(), limit: z.number().int().min(1).max(10_000).optional() }).strict(),
    result: z.object({ lines: z.array(LogLine), lastSeq: z.number().int() }),
  },
  'gpio.state': { params: z.object({}).strict(), result: z.object({ model: GpioModel, state: GpioState }) },
  'gpio.switch': { params: z.object({ channel: HwChannel, state: z.boolean(), wait: z.boolean().default(false) }).strict(), result: Done },
  'gpio.pulse': { params: z.object({ channel: HwChannel, delay: PulseDelay.default(0), wait: z.boolean().default(false) }).strict(), result: Done },
  'atx.state': { params: z.object({}).strict(), result: AtxState },
  'atx.power': { params: z.object({ action: AtxPowerAction, wait: z.boolean().default(false) }).strict(), result: Done },
  'atx.click': { params: z.object({ button: AtxButton, wait: z.boolean().default(false) }).strict(), result: Done },
  'hid.state': { params: z.object({}).strict(), result: HidState },
  /** `state` absent = press and release (PiKVM send_key). */
  'hid.key': { params: z.object({ key: HwKeyName, state: z.boolean().optional() }).strict(), result: z.object({}) },
  'hid.print': {
    /** `delaySec`: pause between key reports (kvmd's `delay`); the agent's default when absent. */
    params: z.object({ text: z.string().max(65_536), limit: z.number().int().min(0).max(1_000_000).optional(), keymap: z.string().max(64).optional(), slow: z.boolean().default(false), delaySec: z.number().min(0).max(5).optional() }).strict(),
    result: z.object({ chars: z.number().int(), skipped: z.number().int() }),
  },
  'hid.releaseAll': { params: z.object({}).strict(), result: z.object({}) },
  /** The last keyboard reports written (hex), newest last: lets tests check what reached the gadget. */
  'hid.reports': { params: z.object({ clear: z.boolean().default(false) }).strict(), result: z.object({ reports: z.array(z.string()) }) },
  'i2c.read': { params: z.object({}).strict(), result: z.object({ sensors: z.array(I2cReading) }) },
  'serial.list': { params: z.object({}).strict(), result: z.object({ ports: z.array(SerialPortView) }) },
  /** Writes `data` (UTF-8) and returns what the port sent back within `readMs`. */
  'serial.exchange': {
    params: z.object({ port: HwChannel, data: z.string().max(65_536), baud: z.number().int().positive().optional(), readMs: z.number().int().min(0).max(10_000).default(200) }).strict(),
    result: z.object({ data: z.string() }),
  },
} as const;

/** PiKVM's error class name, carried in an EdgehookError's details across the RPC. */
export const PikvmErrorDetails = z.object({ pikvmError: z.string().max(64) });

// ---- PiKVM query-string values (kvmd validators) ----
const TRUE_WORDS = new Set(['1', 'true', 'yes', 'on']);
const FALSE_WORDS = new Set(['0', 'false', 'no', 'off']);
/** kvmd's valid_bool: 1/true/yes/on and 0/false/no/off, any case. */
export const KvmBool = z.string().transform((v, ctx) => {
  const w = v.trim().toLowerCase();
  if (TRUE_WORDS.has(w)) return true;
  if (FALSE_WORDS.has(w)) return false;
  ctx.addIssue({ code: 'custom', message: `the argument must be a bool (1/0, true/false, yes/no, on/off), got ${JSON.stringify(v)}` });
  return z.NEVER;
});
/** kvmd's valid_float_f0: a finite number >= 0. */
export const KvmFloat0 = z.string().transform((v, ctx) => {
  const n = Number(v.trim());
  if (v.trim() === '' || !Number.isFinite(n) || n < 0) {
    ctx.addIssue({ code: 'custom', message: `the argument must be a float >= 0, got ${JSON.stringify(v)}` });
    return z.NEVER;
  }
  return n;
});
export const KvmInt0 = z.string().regex(/^\d{1,9}$/, 'the argument must be an integer >= 0').transform(Number);

export const KvmGpioSwitchQuery = z.object({ channel: HwChannel, state: KvmBool, wait: KvmBool.default(false) });
export const KvmGpioPulseQuery = z.object({ channel: HwChannel, delay: KvmFloat0.default(0), wait: KvmBool.default(false) });
export const KvmAtxPowerQuery = z.object({ action: AtxPowerAction, wait: KvmBool.default(false) });
export const KvmAtxClickQuery = z.object({ button: AtxButton, wait: KvmBool.default(false) });
export const KvmSendKeyQuery = z.object({ key: HwKeyName, state: KvmBool.optional(), finish: KvmBool.default(false) });
export const KvmPrintQuery = z.object({ limit: KvmInt0.optional(), keymap: z.string().max(64).optional(), slow: KvmBool.default(false), delay: KvmFloat0.pipe(z.number().max(5)).optional() });
export const KvmLogQuery = z.object({ seek: KvmInt0.default(0), follow: KvmBool.default(false) });
/** `legacy` defaults to true, as in kvmd: legacy=0 asks for the 4.x shape (system.platform, health...). */
export const KvmInfoQuery = z.object({ fields: z.string().max(200).optional(), legacy: KvmBool.default(true) });

/** Frames a PiKVM websocket client may send. Unknown event types are ignored, as kvmd does. */
export const KvmClientFrame = z.object({ event_type: z.string().max(64), event: z.unknown().optional() });
export const KvmKeyEvent = z.object({ key: HwKeyName, state: z.boolean() });

// ---- Edgehook's own REST bodies ----
export const HwSwitchBody = z.object({ state: z.boolean(), wait: z.boolean().default(false) }).strict();
export const HwPulseBody = z.object({ delay: PulseDelay.default(0), wait: z.boolean().default(false) }).strict();
export const HwPowerBody = z.object({ action: AtxPowerAction, wait: z.boolean().default(false) }).strict();
export const HwClickBody = z.object({ button: AtxButton, wait: z.boolean().default(false) }).strict();
export const HwKeyBody = z.object({ key: HwKeyName, state: z.boolean().optional() }).strict();
export const HwPrintBody = z.object({ text: z.string().min(1).max(65_536), limit: z.number().int().min(0).max(1_000_000).optional(), keymap: z.string().max(64).optional(), slow: z.boolean().default(false) }).strict();
export const HwSerialExchangeBody = z.object({ data: z.string().max(65_536), baud: z.number().int().positive().optional(), readMs: z.number().int().min(0).max(10_000).default(200) }).strict();
export const HwDone = Done;

// ---- serial console relay (stream kind 'serial', socket /api/devices/:id/serial) ----
/** Opens a profile serial port as a byte stream; the first port when none is named. */
export const SerialOpenSpec = z.object({ port: HwChannel.optional(), baud: z.number().int().positive().max(4_000_000).optional() }).strict();
/** Operator -> control plane text frames on the serial socket (binary frames are bytes to the port). */
export const SerialClientMessage = z.discriminatedUnion('type', [
  z.object({ type: z.literal('open'), port: HwChannel.optional(), baud: z.number().int().positive().max(4_000_000).optional() }),
  z.object({ type: z.literal('close') }),
]);
export type SerialClientMessage = z.infer<typeof SerialClientMessage>;
