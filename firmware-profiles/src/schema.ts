/**
 * The shape of a board profile file (JSON). Shape only: cross-field rules (ATX wiring,
 * line conflicts, duplicates) live in validate.ts because they must run after `extends`
 * has been merged.
 */
import { z } from 'zod';

/** Lower-case kebab id; also the file name without `.json`. */
export const profileIdSchema = z.string().regex(/^[a-z0-9][a-z0-9-]{0,63}$/, 'must be lower-case kebab-case (a-z, 0-9, -), at most 64 characters');

/** Channel names are API identifiers (PiKVM-style `/api/gpio/switch?channel=...`). */
export const channelNameSchema = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, 'must be letters, digits, _ . - (at most 64)');

/** An absolute device/sysfs path, or a `sim://` address for the simulated platform. */
export const devicePathSchema = z.string().regex(/^(\/|sim:\/\/)\S+$/, "must be an absolute path or a 'sim://' address");

const titleSchema = z.string().min(1).max(120);

/** Seconds; bounds ordering (0 < min <= delay <= max <= 10) is checked in validate.ts. */
export const pulseSchema = z.strictObject({
  /** Default pulse length when the caller gives none. */
  delay: z.number(),
  /** Shortest pulse a caller may ask for. */
  min: z.number(),
  /** Longest pulse a caller may ask for. */
  max: z.number(),
});

const lineSchema = z.number().int().min(0).max(53).describe('BCM line number');

export const inputChannelSchema = z.strictObject({
  /** BCM line number (0..53), not the physical header pin. */
  line: lineSchema,
  direction: z.literal('input'),
  /** The signal is asserted when the line is low (e.g. a LED wired to 3V3). */
  activeLow: z.boolean().default(false),
  /** Edges that raise change events; none means poll only. */
  edge: z.enum(['none', 'rising', 'falling', 'both']).optional(),
  title: titleSchema.optional(),
});

export const outputChannelSchema = z.strictObject({
  /** BCM line number (0..53), not the physical header pin. */
  line: lineSchema,
  direction: z.literal('output'),
  activeLow: z.boolean().default(false),
  /** May be held on/off; false means pulse-only (like a momentary button). */
  switch: z.boolean().default(true),
  /** Pulse bounds in seconds, as in PiKVM (delay/min_delay/max_delay). */
  pulse: pulseSchema.default({ delay: 0.1, min: 0.1, max: 0.1 }),
  /** Level driven when the agent claims the line; absent leaves it as found. */
  initial: z.boolean().optional(),
  title: titleSchema.optional(),
});

export const channelSchema = z.discriminatedUnion('direction', [inputChannelSchema, outputChannelSchema]);

export const gpioSchema = z.strictObject({
  /**
   * Chip label, e.g. 'pinctrl-bcm2711' (Pi 4), 'pinctrl-bcm2835' (Pi 3 / Zero 2 W),
   * 'pinctrl-rp1' (Pi 5). Recent kernels offset sysfs numbers from BCM numbers, so the
   * driver finds the chip by label at runtime and maps BCM lines onto it.
   */
  chip: z.string().min(1).optional(),
  channels: z.record(channelNameSchema, channelSchema).default({}),
});

export const platformSchema = z.strictObject({
  type: z.enum(['rpi', 'generic', 'simulated']),
  /** Human model name, e.g. 'Raspberry Pi 4 Model B'. */
  model: z.string().min(1).optional(),
});

/** Click lengths in seconds; defaults match PiKVM's ATX plugin. */
export const clickDelaysSchema = z.strictObject({
  short: z.number().positive().max(30).default(0.1),
  long: z.number().positive().max(30).default(5.5),
  reset: z.number().positive().max(30).default(0.1),
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
  clickDelays: clickDelaysSchema.prefault({}),
});

/** USB HID gadget devices, e.g. /dev/hidg0. */
export const hidSchema = z.strictObject({
  keyboard: devicePathSchema,
  mouse: devicePathSchema.optional(),
  /** How the gadget's mouse function was described to the host: absolute (a tablet) or relative. */
  mouseMode: z.enum(['absolute', 'relative']).default('absolute'),
});

const resolutionSchema = z.string().regex(/^[1-9]\d{0,4}x[1-9]\d{0,4}$/, 'a resolution like 1280x720');

/** The capture device the streamer (ustreamer) reads: an HDMI-CSI bridge or a USB dongle. */
export const videoSchema = z.strictObject({
  /** e.g. '/dev/video0', or 'sim://video0' for the generated test pattern. */
  device: devicePathSchema,
  resolution: resolutionSchema.default('1280x720'),
  /** Resolutions the source can switch to (set_params resolution); empty = fixed. */
  resolutions: z.array(resolutionSchema).default([]),
  desiredFps: z.number().int().min(0).max(120).default(30),
  quality: z.number().int().min(1).max(100).default(80),
  /** ustreamer --format (e.g. 'UYVY' for the TC358743 bridge, 'MJPEG' for many USB dongles). */
  format: z.string().regex(/^[A-Z0-9]{3,8}$/).optional(),
});

/** Virtual media over the board's USB OTG port: a configfs mass-storage LUN and an image store. */
export const msdSchema = z.strictObject({
  /** The LUN directory, e.g. /sys/kernel/config/usb_gadget/kvmd/functions/mass_storage.usb0/lun.0, or sim://msd. */
  lun: devicePathSchema,
  /** Where images live; relative to the agent's state dir when not absolute. */
  storage: z.string().min(1).default('msd'),
  /** Largest image accepted, in bytes. */
  maxImageBytes: z.number().int().positive().default(64 * 1024 ** 3),
});

export const BAUD_RATES = [1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200, 230400, 460800, 921600, 1000000, 1500000, 2000000, 3000000] as const;

export const serialPortSchema = z.strictObject({
  /** Port name used by the API; unique within a profile. */
  name: channelNameSchema,
  /** e.g. '/dev/ttyAMA0', '/dev/serial0', 'sim://serial0'. */
  path: devicePathSchema,
  baud: z.literal(BAUD_RATES).default(115200),
  title: titleSchema.optional(),
});

/** How to turn raw register bytes into a value: value = raw * scale + offset. */
export const decodeSchema = z.strictObject({
  register: z.number().int().min(0).max(0xff),
  bytes: z.number().int().min(1).max(4).default(2),
  scale: z.number().default(1),
  offset: z.number().default(0),
  signed: z.boolean().default(false),
});

export const i2cSensorSchema = z.strictObject({
  name: channelNameSchema,
  /** Known chips have built-in decoders; 'raw' needs `decode`. */
  type: z.enum(['tmp102', 'lm75', 'bme280', 'sht31', 'raw']),
  /** 7-bit address outside the reserved ranges. */
  address: z.number().int().min(0x03).max(0x77),
  /** Telemetry metric name, e.g. 'temp.board'. */
  metric: z.string().regex(/^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$/, "must be dotted lower-case, e.g. 'temp.board'"),
  unit: z.string().min(1),
  decode: decodeSchema.optional(),
});

export const i2cBusSchema = z.strictObject({
  /** Bus number: /dev/i2c-<bus>. */
  bus: z.number().int().min(0).max(255),
  sensors: z.array(i2cSensorSchema).default([]),
});

export const thermalZoneSchema = z.strictObject({
  name: channelNameSchema,
  /** e.g. '/sys/class/thermal/thermal_zone0/temp'. */
  path: devicePathSchema,
  /** Multiplier to degrees Celsius (sysfs reports millidegrees). */
  scale: z.number().positive().default(0.001),
});

export const throttlingSchema = z.strictObject({
  /** Read under-voltage/throttle flags with `vcgencmd get_throttled` (Pi only). */
  vcgencmd: z.boolean().default(false),
});

/**
 * A profile file as written. Every section is optional and has no top-level default, so a
 * child that extends a base can leave a section out and inherit it (see merge.ts).
 */
export const profileFileSchema = z.strictObject({
  /** Editors' JSON-schema hint; ignored. */
  $schema: z.string().optional(),
  id: profileIdSchema,
  /** Id of a base profile to inherit from. */
  extends: profileIdSchema.optional(),
  /** Set in an operator directory to replace a profile of the same id from an earlier directory. */
  override: z.boolean().optional(),
  name: z.string().min(1).optional(),
  description: z.string().optional(),
  platform: platformSchema.optional(),
  gpio: gpioSchema.optional(),
  atx: atxSchema.optional(),
  hid: hidSchema.optional(),
  video: videoSchema.optional(),
  msd: msdSchema.optional(),
  serial: z.array(serialPortSchema).optional(),
  i2c: z.array(i2cBusSchema).optional(),
  thermalZones: z.array(thermalZoneSchema).optional(),
  throttling: throttlingSchema.optional(),
});

/** A resolved profile (after `extends`): name and platform required, other sections defaulted. */
export const profileSchema = profileFileSchema.extend({
  name: z.string().min(1),
  description: z.string().default(''),
  platform: platformSchema,
  gpio: gpioSchema.prefault({}),
  serial: z.array(serialPortSchema).default([]),
  i2c: z.array(i2cBusSchema).default([]),
  thermalZones: z.array(thermalZoneSchema).default([]),
  throttling: throttlingSchema.prefault({}),
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
