import * as z from '../zod.js';

export const DeviceName = z.string().check(z.regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/, 'use 1-63 letters, digits, "_", "." or "-", starting with a letter or digit'));

export const Tag = z.string().check(z.regex(/^[A-Za-z0-9][A-Za-z0-9_.:=/-]{0,63}$/, 'tags are 1-64 characters: letters, digits and _ . : = / -'));
export const Tags = z.array(Tag).check(z.maxLength(32), z.refine((tags) => new Set(tags).size === tags.length, 'tags must be unique'));

export const BoardProfileId = z.string().check(z.regex(/^[a-z0-9][a-z0-9-]{0,63}$/, 'a profile id is lower-case kebab-case'));

/** What the hardware looks like, reported by the agent at enrollment and on every connect. */
export const HardwareSummary = z.object({
  arch: z.string().check(z.maxLength(32)),
  platform: z.string().check(z.maxLength(32)),
  cpus: z.number().check(z.int(), z.nonnegative()),
  cpuModel: z.optional(z.string().check(z.maxLength(200))),
  memTotalBytes: z.number().check(z.int(), z.nonnegative()),
  model: z.optional(z.string().check(z.maxLength(200))),
});
export type HardwareSummary = z.infer<typeof HardwareSummary>;

/** Slowly changing facts about the running system. */
export const SystemInfo = z.object({
  kernel: z.string().check(z.maxLength(200)),
  os: z.optional(z.string().check(z.maxLength(200))),
  uptimeSec: z.number().check(z.nonnegative()),
  nodeVersion: z.string().check(z.maxLength(32)),
  bootTime: z.optional(z.number().check(z.int(), z.nonnegative())),
});
export type SystemInfo = z.infer<typeof SystemInfo>;

/** The agent's self-description: enrollment body and the `hello` message. */
export const DeviceDescription = z.object({
  hostname: z.string().check(z.minLength(1), z.maxLength(253)),
  profile: BoardProfileId,
  agentVersion: z.string().check(z.minLength(1), z.maxLength(64)),
  hardware: HardwareSummary,
  system: z.optional(SystemInfo),
});
export type DeviceDescription = z.infer<typeof DeviceDescription>;

/** A device as the REST API returns it. */
export const DeviceView = z.object({
  id: z.string(),
  name: z.string(),
  online: z.boolean(),
  lastSeen: z.nullable(z.string()),
  profile: z.string(),
  agentVersion: z.string(),
  /** Set in lists when a newer agent package is published than this device runs: that version. */
  agentLatest: z.optional(z.string()),
  hostname: z.string(),
  tags: z.array(z.string()),
  hardware: z.nullable(HardwareSummary),
  system: z.nullable(SystemInfo),
  createdAt: z.string(),
  /** How the control plane reaches it: our agent over MQTT, or a Quix WSI backend over /wsi. */
  transport: z.optional(z.enum(['mqtt', 'wsi'])),
});
export type DeviceView = z.infer<typeof DeviceView>;

export const DevicePatch = z.strictObject({ name: z.optional(DeviceName), tags: z.optional(Tags) }).check(z.refine((p) => p.name !== undefined || p.tags !== undefined, 'give at least one of name, tags'));
export type DevicePatch = z.infer<typeof DevicePatch>;

export const PresenceState = z.enum(['online', 'offline']);
export const PresenceMessage = z.object({
  state: PresenceState,
  ts: z.number().check(z.int(), z.nonnegative()),
  /** Random per agent process start: tells a restart from a duplicate. */
  session: z.optional(z.string().check(z.maxLength(64))),
});
export type PresenceMessage = z.infer<typeof PresenceMessage>;
