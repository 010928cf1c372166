import * as z from '../zod.js';
import { TraceGroup } from './telemetry.js';

/**
 * Perfkit (seed 000): instrumented programs on a device register sessions with the agent's local
 * endpoint, declare configs, publish interactive images and push traces. These are the shapes on
 * the local endpoint, on the device link and in the REST API.
 */

/** Stream kinds of perfkit (messages/streams.ts): an image frame, framed like the KVM screen. */
export const PerfkitStreamKinds = { image: 'perfkit-image' } as const;

export const PerfkitSessionId = z.string().check(z.regex(/^[A-Za-z0-9_-]{1,64}$/, 'session ids are 1-64 letters, digits, _ or -'));
/** A session's name is also its config scope: configs outlive one run of the program. */
export const PerfkitSessionName = z.string().check(z.regex(/^[a-z][a-z0-9_-]{0,47}$/, 'session names are lower-case identifiers of at most 48 characters'));
/** `agent` (the agent's own settings) or a session name. */
export const ConfigScope = PerfkitSessionName;
export const AGENT_SCOPE = 'agent';
const Ident = z.string().check(z.regex(/^[a-z][a-z0-9_]{0,47}$/, 'lower-case identifiers of at most 48 characters'));
/** `<class>.<entry>`. */
export const ConfigKey = z.string().check(z.regex(/^[a-z][a-z0-9_]{0,47}\.[a-z][a-z0-9_]{0,47}$/, 'config keys are <class>.<entry>, lower-case identifiers'));
export const ImageName = Ident;

export const ConfigValue = z.union([z.boolean(), z.number(), z.string().check(z.maxLength(4096))]);
export type ConfigValue = z.infer<typeof ConfigValue>;
export const ConfigType = z.enum(['bool', 'int', 'float', 'string', 'enum']);

export const ConfigEntryDecl = z.strictObject({
    name: Ident,
    type: ConfigType,
    default: ConfigValue,
    description: z._default(z.string().check(z.maxLength(500)), ''),
    /** enum only: the allowed values. */
    options: z.optional(z.array(z.string().check(z.minLength(1), z.maxLength(64))).check(z.minLength(1), z.maxLength(64))),
    min: z.optional(z.number()),
    max: z.optional(z.number()),
  }).check(z.superRefine((e, ctx) => {
    if (e.type === 'enum' && !e.options) ctx.addIssue({ code: 'custom', message: `entry ${e.name}: an enum needs options` });
    const bad = checkConfigValue(e, e.default);
    if (bad) ctx.addIssue({ code: 'custom', message: `entry ${e.name}: default ${bad}` });
  }));
export type ConfigEntryDecl = z.infer<typeof ConfigEntryDecl>;

export const ConfigClassDecl = z.strictObject({ name: Ident, description: z._default(z.string().check(z.maxLength(500)), ''), entries: z.array(ConfigEntryDecl).check(z.minLength(1), z.maxLength(128)) });
export type ConfigClassDecl = z.infer<typeof ConfigClassDecl>;
export const ConfigDecl = z.strictObject({ classes: z.array(ConfigClassDecl).check(z.minLength(1), z.maxLength(32)) }).check(z.refine((d) => new Set(d.classes.map((c) => c.name)).size === d.classes.length, 'class names must be unique'));
export type ConfigDecl = z.infer<typeof ConfigDecl>;

/** Why `value` does not fit `entry`, or null when it does. */
export function checkConfigValue(entry: { type: z.infer<typeof ConfigType>; options?: string[] | undefined; min?: number | undefined; max?: number | undefined }, value: ConfigValue): string | null {
  switch (entry.type) {
    case 'bool':
      return typeof value === 'boolean' ? null : 'must be true or false';
    case 'int':
    case 'float': {
      if (typeof value !== 'number') return `must be a number`;
      if (entry.type === 'int' && !Number.isInteger(value)) return 'must be an integer';
      if (entry.min !== undefined && value < entry.min) return `must be at least ${entry.min}`;
      if (entry.max !== undefined && value > entry.max) return `must be at most ${entry.max}`;
      return null;
    }
    case 'string':
      return typeof value === 'string' ? null : 'must be a string';
    case 'enum':
      return typeof value === 'string' && (entry.options ?? []).includes(value) ? null : `must be one of ${(entry.options ?? []).join(', ')}`;
  }
}

/** Finds `<class>.<entry>` in a declaration. */
export function findConfigEntry(classes: readonly ConfigClassDecl[], key: string): ConfigEntryDecl | undefined {
  const [cls, name] = key.split('.');
  return classes.find((c) => c.name === cls)?.entries.find((e) => e.name === name);
}

/** A value with the desired version it answers (0: the declared default, nothing desired yet). */
export const VersionedValue = z.object({ value: ConfigValue, version: z.number().check(z.int(), z.gte(0)) });
export const ReportedEntry = z.strictObject({ key: ConfigKey, value: ConfigValue, version: z.number().check(z.int(), z.gte(0)) });
export type ReportedEntry = z.infer<typeof ReportedEntry>;

// ---- the local endpoint (programs on the device -> the agent) ----
export const SessionRegister = z.strictObject({
    name: PerfkitSessionName,
    pid: z.number().check(z.int(), z.gte(1), z.lte(4_194_304)),
    machine: z.optional(z.string().check(z.minLength(1), z.maxLength(253))),
    description: z._default(z.string().check(z.maxLength(1000)), ''),
    startedAt: z.optional(z.number().check(z.int(), z.nonnegative())),
  });
export type SessionRegister = z.infer<typeof SessionRegister>;
export const ReportedPush = z.strictObject({ entries: z.array(ReportedEntry).check(z.minLength(1), z.maxLength(512)) });

// ---- interactions (operators -> the session) ----
export const InteractionEvent = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('key'), key: z.string().check(z.minLength(1), z.maxLength(32)), down: z.boolean(), modifiers: z.optional(z.array(z.enum(['shift', 'ctrl', 'alt', 'meta'])).check(z.maxLength(4))) }),
  z.strictObject({
      type: z.literal('mouse'),
      action: z.enum(['move', 'down', 'up', 'click', 'wheel']),
      /** Pixels in the image. */
      x: z.number().check(z.int(), z.gte(0), z.lte(65535)),
      y: z.number().check(z.int(), z.gte(0), z.lte(65535)),
      button: z.optional(z.enum(['left', 'middle', 'right'])),
      delta: z.optional(z.number().check(z.int(), z.gte(-10_000), z.lte(10_000))),
    }),
]);
export type InteractionEvent = z.infer<typeof InteractionEvent>;
export const InteractionBody = z.strictObject({ events: z.array(InteractionEvent).check(z.minLength(1), z.maxLength(256)) });
/** What a session reads: the events in order, each with its sequence number. */
export const Interaction = z.object({ seq: z.number().check(z.int(), z.gte(1)), image: ImageName, at: z.number(), event: InteractionEvent });
export type Interaction = z.infer<typeof Interaction>;

// ---- what the agent reports (device -> control plane) ----
export const ImageInfo = z.object({ name: ImageName, seq: z.number().check(z.int(), z.gte(1)), width: z.number().check(z.int(), z.gte(0)), height: z.number().check(z.int(), z.gte(0)), at: z.number(), bytes: z.number().check(z.int(), z.gte(0)) });
export const SessionInfo = z.object({
  id: PerfkitSessionId,
  name: PerfkitSessionName,
  pid: z.number().check(z.int()),
  machine: z.string(),
  description: z.string(),
  startedAt: z.number(),
  /** null while live; set when the program said so or its pid was gone. */
  endedAt: z.nullable(z.number()),
  endReason: z.nullable(z.enum(['closed', 'pid-gone', 'replaced'])),
  traceGroups: z.array(TraceGroup).check(z.maxLength(64)),
  images: z.array(ImageInfo).check(z.maxLength(16)),
});
export type SessionInfo = z.infer<typeof SessionInfo>;
export const ScopeReport = z.object({ scope: ConfigScope, classes: z.array(ConfigClassDecl).check(z.maxLength(32)), reported: z.array(ReportedEntry).check(z.maxLength(4096)) });
export type ScopeReport = z.infer<typeof ScopeReport>;
/** Retained on `d/{id}/perfkit/state`: the whole picture, sent on every change. */
export const PerfkitState = z.object({ at: z.number(), sessions: z.array(SessionInfo).check(z.maxLength(128)), configs: z.array(ScopeReport).check(z.maxLength(65)) });
export type PerfkitState = z.infer<typeof PerfkitState>;

/** Retained on `d/{id}/perfkit/desired` (control plane -> device): every desired entry, with the patch sequence it is at. */
export const DesiredEntry = z.object({ scope: ConfigScope, key: ConfigKey, value: ConfigValue, version: z.number().check(z.int(), z.gte(1)) });
export type DesiredEntry = z.infer<typeof DesiredEntry>;
export const PerfkitDesired = z.object({ seq: z.number().check(z.int(), z.gte(0)), entries: z.array(DesiredEntry).check(z.maxLength(8192)) });
export type PerfkitDesired = z.infer<typeof PerfkitDesired>;

// ---- RPC and streams ----
export const PerfkitInteractParams = z.strictObject({ session: PerfkitSessionId, image: ImageName, events: z.array(InteractionEvent).check(z.minLength(1), z.maxLength(256)) });
export const PerfkitInteractResult = z.object({ accepted: z.number().check(z.int()), lastSeq: z.number().check(z.int()) });
/** `seq` asks for that frame exactly (a cache miss on the control plane); absent: the latest. */
export const PerfkitImageSpec = z.strictObject({ session: PerfkitSessionId, image: ImageName, seq: z.optional(z.number().check(z.int(), z.gte(1))) });
export const PerfkitImageOpened = z.object({ seq: z.number().check(z.int(), z.gte(1)) });

export const perfkitRpcDefinitions = {
  'perfkit.interact': { params: PerfkitInteractParams, result: PerfkitInteractResult },
} as const;

// ---- REST ----
export const ConfigEntryView = z.object({
  key: ConfigKey,
  type: ConfigType,
  default: ConfigValue,
  description: z.string(),
  options: z.optional(z.array(z.string())),
  min: z.optional(z.number()),
  max: z.optional(z.number()),
  desired: z.nullable(VersionedValue),
  reported: z.nullable(VersionedValue),
  /** Desired and reported agree (or nothing is desired). */
  inSync: z.boolean(),
});
export const ConfigScopeView = z.object({ scope: ConfigScope, live: z.boolean(), classes: z.array(z.object({ name: z.string(), description: z.string() })), entries: z.array(ConfigEntryView) });
export const ConfigsView = z.object({ device: z.object({ id: z.string(), name: z.string() }), seq: z.number().check(z.int()), scopes: z.array(ConfigScopeView) });
export type ConfigsView = z.infer<typeof ConfigsView>;
export const ConfigPatch = z.object({ seq: z.number().check(z.int(), z.gte(1)), scope: ConfigScope, key: ConfigKey, value: ConfigValue, version: z.number().check(z.int(), z.gte(1)), at: z.string(), by: z.nullable(z.string()) });
export type ConfigPatch = z.infer<typeof ConfigPatch>;
export const ConfigPatchesQuery = z.object({
  since: z._default(z.coerce.number({ message: 'since must be a sequence number' }).check(z.int('since must be an integer'), z.gte(0, 'since must be 0 or more')), 0),
  limit: z._default(z.coerce.number().check(z.int(), z.gte(1), z.lte(1000)), 1000),
});
export const ConfigPatches = z.object({ since: z.number().check(z.int()), seq: z.number().check(z.int()), patches: z.array(ConfigPatch), more: z.boolean() });
/** `version`: the desired version the edit is based on (0 when nothing was desired); a different current version is a 409. */
export const ConfigSetBody = z.strictObject({ value: ConfigValue, version: z.optional(z.number().check(z.int(), z.gte(0))) });
export const ConfigSetResult = z.object({ scope: ConfigScope, key: ConfigKey, value: ConfigValue, version: z.number().check(z.int()), seq: z.number().check(z.int()) });
/** A session's trace group as the telemetry store has it (series `trace.<group>.<name>`). */
export const SessionTrace = z.object({ group: TraceGroup, series: z.array(z.string()), lastTs: z.nullable(z.number()) });
export const SessionsView = z.object({ device: z.object({ id: z.string(), name: z.string(), online: z.boolean() }), reportedAt: z.nullable(z.number()), sessions: z.array(z.extend(SessionInfo, { traces: z.array(SessionTrace) })) });
export const ImageQuery = z.object({ seq: z.optional(z.coerce.number({ message: 'seq must be a frame sequence number' }).check(z.int(), z.gte(1, 'seq must be 1 or more'))) });
