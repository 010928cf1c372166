import { z } from 'zod';

export const DeviceName = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/, 'use 1-63 letters, digits, "_", "." or "-", starting with a letter or digit');

export const Tag = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.:=/-]{0,63}$/, 'tags are 1-64 characters: letters, digits and _ . : = / -');
export const Tags = z.array(Tag).max(32).refine((tags) => new Set(tags).size === tags.length, 'tags must be unique');

export const BoardProfileId = z.string().regex(/^[a-z0-9][a-z0-9-]{0,63}$/, 'a profile id is lower-case kebab-case');

/** What the hardware looks like, reported by the agent at enrollment and on every connect. */
export const HardwareSummary = z.object({
  arch: z.string().max(32),
  platform: z.string().max(32),
  cpus: z.number().int().nonnegative(),
  cpuModel: z.string().max(200).optional(),
  memTotalBytes: z.number().int().nonnegative(),
  model: z.string().max(200).optional(),
});
export type HardwareSummary = z.infer<typeof HardwareSummary>;

/** Slowly changing facts about the running system. */
export const SystemInfo = z.object({
  kernel: z.string().max(200),
  os: z.string().max(200).optional(),
  uptimeSec: z.number().nonnegative(),
  nodeVersion: z.string().max(32),
  bootTime: z.number().int().nonnegative().optional(),
});
export type SystemInfo = z.infer<typeof SystemInfo>;

/** The agent's self-description: enrollment body and the `hello` message. */
export const DeviceDescription = z.object({
  hostname: z.string().min(1).max(253),
  profile: BoardProfileId,
  agentVersion: z.string().min(1).max(64),
  hardware: HardwareSummary,
  system: SystemInfo.optional(),
});
export type DeviceDescription = z.infer<typeof DeviceDescription>;

/** A device as the REST API returns it. */
export const DeviceView = z.object({
  id: z.string(),
  name: z.string(),
  online: z.boolean(),
  lastSeen: z.string().nullable(),
  profile: z.string(),
  agentVersion: z.string(),
  /** Set in lists when a newer agent package is published than this device runs: that version. */
  agentLatest: z.string().optional(),
  hostname: z.string(),
  tags: z.array(z.string()),
  hardware: HardwareSummary.nullable(),
  system: SystemInfo.nullable(),
  createdAt: z.string(),
  /** How the control plane reaches it: our agent over MQTT, or a Quix WSI backend over /wsi. */
  transport: z.enum(['mqtt', 'wsi']).optional(),
});
export type DeviceView = z.infer<typeof DeviceView>;

export const DevicePatch = z
  .object({ name: DeviceName.optional(), tags: Tags.optional() })
  .strict()
  .refine((p) => p.name !== undefined || p.tags !== undefined, 'give at least one of name, tags');
export type DevicePatch = z.infer<typeof DevicePatch>;

export const PresenceState = z.enum(['online', 'offline']);
export const PresenceMessage = z.object({
  state: PresenceState,
  ts: z.number().int().nonnegative(),
  /** Random per agent process start: tells a restart from a duplicate. */
  session: z.string().max(64).optional(),
});
export type PresenceMessage = z.infer<typeof PresenceMessage>;
