/**
 * The shape of a board profile file (JSON). Shape only: cross-field rules (ATX wiring,
 * line conflicts, duplicates) live in validate.ts because they must run after `extends`
 * has been merged.
 */
import * as z from '@edgehook/shared/zod';

/** Lower-case kebab id; also the file name without `.json`. */
export const profileIdSchema = z.string().check(z.regex(/^[a-z0-9][a-z0-9-]{0,63}$/, 'must be lower-case kebab-case (a-z, 0-9, -), at most 64 characters'));

/** Channel names are API identifiers (PiKVM-style `/api/gpio/switch?channel=...`). */
export const channelNameSchema = z.string().check(z.regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, 'must be letters, digits, _ . - (at most 64)'));

/** An absolute device/sysfs path, or a `sim://` address for the simulated platform. */
export const devicePathSchema = z.string().check(z.regex(/^(\/|sim:\/\/)\S+$/, "must be an absolute path or a 'sim://' address"));

const titleSchema = z.string().check(z.minLength(1), z.maxLength(120));

/** Seconds; bounds ordering (0 < min <= delay <= max <= 10) is checked in validate.ts. */
export const pulseSchema = z.strictObject({
  /** Default pulse length when the caller gives none. */
  delay: z.number(),
  /** Shortest pulse a caller may ask for. */
  min: z.number(),
  /** Longest pulse a caller may ask for. */
  max: z.number(),
});

const lineSchema = z.number().check(z.int(), z.gte(0), z.lte(53), z.describe('BCM line number'));

export const inputChannelSchema = z.strictObject({
  /** BCM line number (0..53), not the physical header pin. */
  line: lineSchema,
  direction: z.literal('input'),
  /** The signal is asserted when the line is low (e.g. a LED wired to 3V3). */
  activeLow: z._default(z.boolean(), false),
  /** Edges that raise change events; none means poll only. */
  edge: z.optional(z.enum(['none', 'rising', 'falling', 'both'])),
  title: z.optional(titleSchema),
});

export const outputChannelSchema = z.strictObject({
  /** BCM line number (0..53), not the physical header pin. */
  line: lineSchema,
  direction: z.literal('output'),
  activeLow: z._default(z.boolean(), false),
  /** May be held on/off; false means pulse-only (like a momentary button). */
  switch: z._default(z.boolean(), true),
  /** Pulse bounds in seconds, as in PiKVM (delay/min_delay/max_delay). */
  pulse: z._default(pulseSchema, { delay: 0.1, min: 0.1, max: 0.1 }),
  /** Level driven when the agent claims the line; absent leaves it as found. */
  initial: z.optional(z.boolean()),
  title: z.optional(titleSchema),
});

export const channelSchema = z.discriminatedUnion('direction', [inputChannelSchema, outputChannelSchema]);

export const gpioSchema = z.strictObject({
  /**
   * Chip label, e.g. 'pinctrl-bcm2711' (Pi 4), 'pinctrl-bcm2835' (Pi 3 / Zero 2 W),
   * 'pinctrl-rp1' (Pi 5). Recent kernels offset sysfs numbers from BCM numbers, so the
   * driver finds the chip by label at runtime and maps BCM lines onto it.
   */
  chip: z.optional(z.string().check(z.minLength(1))),
  channels: z._default(z.record(channelNameSchema, channelSchema), {}),
});

export const platformSchema = z.strictObject({
  type: z.enum(['rpi', 'generic', 'simulated']),
  /** Human model name, e.g. 'Raspberry Pi 4 Model B'. */
  model: z.optional(z.string().check(z.minLength(1))),
});

/** Click lengths in seconds; defaults match PiKVM's ATX plugin. */
export const clickDelaysSchema = z.strictObject({
  short: z._default(z.number().check(z.positive(), z.lte(30)), 0.1),
  long: z._default(z.number().check(z.positive(), z.lte(30)), 5.5),
  reset: z._default(z.number().check(z.positive(), z.lte(30)), 0.1),
});

/** ATX front panel: each field names a GPIO channel of this profile. */
export const atxSchema = z.strictObject({
  /** Output channel wired to the power button. */
  power: channelNameSchema,
  /** Output channel wired to the reset button. */
  reset: channelNameSchema,
  /** Input channel reading the power LED. */
  powerLed: channelNameSchema,
  /** Input channel reading the HDD activity LED. */
  hddLed: channelNameSchema,
  clickDelays: z.prefault(clickDelaysSchema, {}),
});

/** USB HID gadget devices, e.g. /dev/hidg0. */
export const hidSchema = z.strictObject({
  keyboard: devicePathSchema,
  mouse: z.optional(devicePathSchema),
  /** How the gadget's mouse function was described to the host: absolute (a tablet) or relative. */
  mouseMode: z._default(z.enum(['absolute', 'relative']), 'absolute'),
});

const resolutionSchema = z.string().check(z.regex(/^[1-9]\d{0,4}x[1-9]\d{0,4}$/, 'a resolution like 1280x720'));

/** The capture device the streamer (ustreamer) reads: an HDMI-CSI bridge or a USB dongle. */
export const videoSchema = z.strictObject({
  /** e.g. '/dev/video0', or 'sim://video0' for the generated test pattern. */
  device: devicePathSchema,
  resolution: z._default(resolutionSchema, '1280x720'),
  /** Resolutions the source can switch to (set_params resolution); empty = fixed. */
  resolutions: z._default(z.array(resolutionSchema), []),
  desiredFps: z._default(z.number().check(z.int(), z.gte(0), z.lte(120)), 30),
  quality: z._default(z.number().check(z.int(), z.gte(1), z.lte(100)), 80),
  /** ustreamer --format (e.g. 'UYVY' for the TC358743 bridge, 'MJPEG' for many USB dongles). */
  format: z.optional(z.string().check(z.regex(/^[A-Z0-9]{3,8}$/))),
});

/** Virtual media over the board's USB OTG port: a configfs mass-storage LUN and an image store. */
export const msdSchema = z.strictObject({
  /** The LUN directory, e.g. /sys/kernel/config/usb_gadget/kvmd/functions/mass_storage.usb0/lun.0, or sim://msd. */
  lun: devicePathSchema,
  /** Where images live; relative to the agent's state dir when not absolute. */
  storage: z._default(z.string().check(z.minLength(1)), 'msd'),
  /** Largest image accepted, in bytes. */
  maxImageBytes: z._default(z.number().check(z.int(), z.positive()), 64 * 1024 ** 3),
});

export const BAUD_RATES = [1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200, 230400, 460800, 921600, 1000000, 1500000, 2000000, 3000000] as const;

export const serialPortSchema = z.strictObject({
  /** Port name used by the API; unique within a profile. */
  name: channelNameSchema,
  /** e.g. '/dev/ttyAMA0', '/dev/serial0', 'sim://serial0'. */
  path: devicePathSchema,
  baud: z._default(z.literal(BAUD_RATES), 115200),
  title: z.optional(titleSchema),
});

/** How to turn raw register bytes into a value: value = raw * scale + offset. */
export const decodeSchema = z.strictObject({
  register: z.number().check(z.int(), z.gte(0), z.lte(0xff)),
  bytes: z._default(z.number().check(z.int(), z.gte(1), z.lte(4)), 2),
  scale: z._default(z.number(), 1),
  offset: z._default(z.number(), 0),
  signed: z._default(z.boolean(), false),
});

export const i2cSensorSchema = z.strictObject({
  name: channelNameSchema,
  /** Known chips have built-in decoders; 'raw' needs `decode`. */
  type: z.enum(['tmp102', 'lm75', 'bme280', 'sht31', 'raw']),
  /** 7-bit address outside the reserved ranges. */
  address: z.number().check(z.int(), z.gte(0x03), z.lte(0x77)),
  /** Telemetry metric name, e.g. 'temp.board'. */
  metric: z.string().check(z.regex(/^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$/, "must be dotted lower-case, e.g. 'temp.board'")),
  unit: z.string().check(z.minLength(1)),
  decode: z.optional(decodeSchema),
});

export const i2cBusSchema = z.strictObject({
  /** Bus number: /dev/i2c-<bus>. */
  bus: z.number().check(z.int(), z.gte(0), z.lte(255)),
  sensors: z._default(z.array(i2cSensorSchema), []),
});

export const thermalZoneSchema = z.strictObject({
  name: channelNameSchema,
  /** e.g. '/sys/class/thermal/thermal_zone0/temp'. */
  path: devicePathSchema,
  /** Multiplier to degrees Celsius (sysfs reports millidegrees). */
  scale: z._default(z.number().check(z.positive()), 0.001),
});

export const throttlingSchema = z.strictObject({
  /** Read under-voltage/throttle flags with `vcgencmd get_throttled` (Pi only). */
  vcgencmd: z._default(z.boolean(), false),
});

/**
 * A profile file as written. Every section is optional and has no top-level default, so a
 * child that extends a base can leave a section out and inherit it (see merge.ts).
 */
export const profileFileSchema = z.strictObject({
  /** Editors' JSON-schema hint; ignored. */
  $schema: z.optional(z.string()),
  id: profileIdSchema,
  /** Id of a base profile to inherit from. */
  extends: z.optional(profileIdSchema),
  /** Set in an operator directory to replace a profile of the same id from an earlier directory. */
  override: z.optional(z.boolean()),
  name: z.optional(z.string().check(z.minLength(1))),
  description: z.optional(z.string()),
  platform: z.optional(platformSchema),
  gpio: z.optional(gpioSchema),
  atx: z.optional(atxSchema),
  hid: z.optional(hidSchema),
  video: z.optional(videoSchema),
  msd: z.optional(msdSchema),
  serial: z.optional(z.array(serialPortSchema)),
  i2c: z.optional(z.array(i2cBusSchema)),
  thermalZones: z.optional(z.array(thermalZoneSchema)),
  throttling: z.optional(throttlingSchema),
});

/** A resolved profile (after `extends`): name and platform required, other sections defaulted. */
export const profileSchema = z.extend(profileFileSchema, {
  name: z.string().check(z.minLength(1)),
  description: z._default(z.string(), ''),
  platform: platformSchema,
  gpio: z.prefault(gpioSchema, {}),
  serial: z._default(z.array(serialPortSchema), []),
  i2c: z._default(z.array(i2cBusSchema), []),
  thermalZones: z._default(z.array(thermalZoneSchema), []),
  throttling: z.prefault(throttlingSchema, {}),
});

/** A profile file as written (JSON input). */
export type ProfileFile = z.input<typeof profileFileSchema>;
/** A profile file after shape parsing, before `extends` is merged. */
export type ParsedProfileFile = z.output<typeof profileFileSchema>;
/** A resolved, validated profile. */
export type Profile = z.infer<typeof profileSchema>;
export type Channel = z.infer<typeof channelSchema>;
export type InputChannel = z.infer<typeof inputChannelSchema>;
export type OutputChannel = z.infer<typeof outputChannelSchema>;
export type Pulse = z.infer<typeof pulseSchema>;
export type AtxConfig = z.infer<typeof atxSchema>;
export type HidConfig = z.infer<typeof hidSchema>;
export type VideoConfig = z.infer<typeof videoSchema>;
export type MsdConfig = z.infer<typeof msdSchema>;
export type SerialPort = z.infer<typeof serialPortSchema>;
export type I2cBus = z.infer<typeof i2cBusSchema>;
export type I2cSensor = z.infer<typeof i2cSensorSchema>;
export type ThermalZone = z.infer<typeof thermalZoneSchema>;
export type Platform = z.infer<typeof platformSchema>;
