import * as z from '../zod.js';

/**
 * Containers ("servers" in the Encedeus/Skyhook spec, as Pterodactyl Wings runs them): the RPC
 * methods the control plane calls on an agent, the stream kinds for consoles, logs, stats and file
 * transfer, the declared set of servers and the Wings console frames.
 */

/** A server name: also its container name and data directory name, so no path or shell tricks. */
export const ServerName = z.string().check(z.regex(/^[a-z0-9][a-z0-9_.-]{0,62}$/, 'a name is 1-63 of a-z 0-9 _ . - starting with a letter or digit'));
/** A container reference: an engine id (hex, full or prefix) or a container name. */
export const ContainerRef = z.string().check(z.regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/, 'a container id or name'));

export const PortMapping = z.strictObject({
    container: z.number().check(z.int(), z.gte(1), z.lte(65535)),
    host: z.number().check(z.int(), z.gte(1), z.lte(65535)),
    protocol: z._default(z.enum(['tcp', 'udp']), 'tcp'),
    hostIp: z.optional(z.union([z.ipv4(), z.ipv6()])),
  });

/** A bind mount. `source` is an absolute host path, or relative to the server's data directory. */
export const VolumeMount = z.strictObject({
    source: z.string().check(z.minLength(1), z.maxLength(4096)),
    target: z.string().check(z.regex(/^\/[^\0]*$/, 'an absolute path in the container'), z.maxLength(4096)),
    readOnly: z._default(z.boolean(), false),
  });

export const RestartPolicy = z.enum(['no', 'always', 'unless-stopped', 'on-failure']);

/** A host device node passed into the container (needs the agent's --container-devices). */
export const DeviceMapping = z.strictObject({
    host: z.string().check(z.regex(/^\/dev\/[^\0:]+$/, 'a device path under /dev')),
    container: z.optional(z.string().check(z.regex(/^\/[^\0:]*$/), z.maxLength(4096))),
    permissions: z._default(z.string().check(z.regex(/^[rwm]{1,3}$/)), 'rwm'),
  });
/** Linux capability names as Docker takes them (CAP_ prefix optional). */
export const CapabilityName = z.string().check(z.regex(/^(CAP_)?[A-Z_]{2,32}$/, 'a capability name like NET_ADMIN'));

/** What to run. Edgehook owns the labels under `io.edgehook.`; callers may add their own. */
export const ContainerSpec = z.strictObject({
    name: ServerName,
    image: z.string().check(z.minLength(1), z.maxLength(512), z.regex(/^[^\s]+$/, 'an image reference without spaces')),
    cmd: z.optional(z.array(z.string().check(z.maxLength(65536))).check(z.maxLength(1024))),
    entrypoint: z.optional(z.array(z.string().check(z.maxLength(65536))).check(z.maxLength(64))),
    env: z._default(z.record(z.string().check(z.regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'an environment variable name')), z.string().check(z.maxLength(65536))), {}),
    ports: z._default(z.array(PortMapping).check(z.maxLength(64)), []),
    volumes: z._default(z.array(VolumeMount).check(z.maxLength(64)), []),
    /** Where the server's data directory (the root of the files API) is mounted; null for none. */
    dataMount: z._default(z.nullable(z.string().check(z.regex(/^\/[^\0]*$/), z.maxLength(4096))), '/data'),
    restartPolicy: z._default(RestartPolicy, 'no'),
    memoryBytes: z.optional(z.number().check(z.int(), z.gte(4 * 1024 * 1024), z.lte(2 ** 45))),
    /** CPU limit in cores (0.5 = half a core). */
    cpus: z.optional(z.number().check(z.gte(0.01), z.lte(1024))),
    labels: z._default(z.record(z.string().check(z.maxLength(256), z.refine((k) => !k.startsWith('io.edgehook.'), 'labels under io.edgehook. are reserved')), z.string().check(z.maxLength(4096))), {}),
    /** A terminal for the console (interactive shells want one; servers that log usually not). */
    tty: z._default(z.boolean(), false),
    workingDir: z.optional(z.string().check(z.maxLength(4096))),
    /** Seconds a stop waits before the engine kills the container. */
    stopTimeoutSec: z._default(z.number().check(z.int(), z.gte(0), z.lte(3600)), 10),
    // Host access: each is refused unless the agent was started with the flag that allows it
    // (root on the device otherwise). Optional, so specs without them keep their hash.
    privileged: z.optional(z.boolean()),
    networkMode: z.optional(z.enum(['bridge', 'host', 'none'])),
    pidMode: z.optional(z.enum(['host'])),
    devices: z.optional(z.array(DeviceMapping).check(z.maxLength(64))),
    capAdd: z.optional(z.array(CapabilityName).check(z.maxLength(64))),
  });
export type ContainerSpec = z.output<typeof ContainerSpec>;
export type ContainerSpecInput = z.input<typeof ContainerSpec>;

/** Labels Edgehook puts on what it creates. */
export const EDGEHOOK_LABELS = {
  owner: 'io.edgehook.owner',
  server: 'io.edgehook.server',
  /** "true" for members of the declared set (the planner removes those no longer declared). */
  declared: 'io.edgehook.declared',
  specHash: 'io.edgehook.spec-hash',
} as const;

/** Engine states as Docker reports them. */
export const EngineState = z.enum(['created', 'running', 'paused', 'restarting', 'removing', 'exited', 'dead']);
export type EngineState = z.infer<typeof EngineState>;
/** Wings power states. */
export const PowerState = z.enum(['offline', 'starting', 'running', 'stopping']);
export type PowerState = z.infer<typeof PowerState>;
export const PowerAction = z.enum(['start', 'stop', 'restart', 'kill']);
export type PowerAction = z.infer<typeof PowerAction>;

export const ContainerInfo = z.object({
  id: z.string(),
  name: z.string(),
  image: z.string(),
  engineState: EngineState,
  /** Engine's human status ("Up 3 minutes", "Exited (0) 2 seconds ago"). */
  status: z.string(),
  power: PowerState,
  /** Created by Edgehook (owner label); `server` is its server name, `declared` if in the declared set. */
  managed: z.boolean(),
  server: z.nullable(z.string()),
  declared: z.boolean(),
  createdAt: z.number(),
  startedAt: z.nullable(z.number()),
  finishedAt: z.nullable(z.number()),
  exitCode: z.nullable(z.number().check(z.int())),
  ports: z.array(z.object({ container: z.number().check(z.int()), host: z.nullable(z.number().check(z.int())), protocol: z.string() })),
  labels: z.record(z.string(), z.string()),
});
export type ContainerInfo = z.infer<typeof ContainerInfo>;

/** Wings' stats keys (memory in bytes, cpu_absolute in % of one core, uptime in ms). */
export const ContainerStats = z.object({
  memory_bytes: z.number(),
  memory_limit_bytes: z.number(),
  cpu_absolute: z.number(),
  network: z.object({ rx_bytes: z.number(), tx_bytes: z.number() }),
  uptime: z.number(),
  state: PowerState,
  disk_bytes: z.number(),
});
export type ContainerStats = z.infer<typeof ContainerStats>;

export const EngineInfo = z.object({ name: z.string(), version: z.string(), apiVersion: z.string(), socket: z.string() });
export type EngineInfo = z.infer<typeof EngineInfo>;

export const ContainerLogLine = z.object({ stream: z.enum(['stdout', 'stderr']), line: z.string() });

// ---- Declared servers ----

export const PlanStep = z.discriminatedUnion('action', [
  z.object({ action: z.literal('create'), server: ServerName }),
  z.object({ action: z.literal('start'), server: ServerName }),
  z.object({ action: z.literal('stop'), server: ServerName }),
  /** The spec changed: remove the container and create it again (the data directory stays). */
  z.object({ action: z.literal('recreate'), server: ServerName, reason: z.string() }),
  z.object({ action: z.literal('remove'), server: ServerName, containerId: z.string() }),
]);
export type PlanStep = z.infer<typeof PlanStep>;

/** One declared server: its container spec and whether it should be running. */
export const DeclaredServer = z.extend(ContainerSpec, { desired: z._default(z.enum(['running', 'stopped']), 'running') });
export type DeclaredServer = z.output<typeof DeclaredServer>;

export const DeclaredServers = z.array(DeclaredServer).check(z.maxLength(256), z.superRefine((list, ctx) => {
    const seen = new Set<string>();
    list.forEach((s, i) => {
      if (seen.has(s.name)) ctx.addIssue({ code: "custom", path: [i, 'name'], message: `server ${s.name} is declared twice` });
      seen.add(s.name);
    });
  }));

export const ServersPutBody = z.strictObject({ servers: DeclaredServers });

export const StepOutcome = z.object({ step: PlanStep, ok: z.boolean(), error: z.optional(z.string()), ms: z.number() });
export const ApplyResult = z.object({ steps: z.array(StepOutcome), ok: z.boolean() });
export type ApplyResult = z.infer<typeof ApplyResult>;

// ---- Files (inside one server's data directory) ----

/** A path relative to the server root ("/" is the root). The agent resolves real paths and refuses escapes. */
export const FilePath = z.string().check(z.minLength(1), z.maxLength(4096), z.refine((p) => !p.includes('\0'), 'a path may not contain NUL'));
export const FileEntry = z.object({
  name: z.string(),
  type: z.enum(['file', 'directory', 'symlink', 'other']),
  size: z.number(),
  mode: z.string(),
  modifiedAt: z.number(),
});
export type FileEntry = z.infer<typeof FileEntry>;

export const FileReadSpec = z.strictObject({ server: ServerName, path: FilePath });
/** Upload: input bytes are written to a temporary file that replaces `path` once complete. */
export const FileWriteSpec = z.strictObject({ server: ServerName, path: FilePath, size: z.optional(z.number().check(z.int(), z.gte(0), z.lte(2 ** 40))) });
export const ConsoleSpec = z.strictObject({ ref: ContainerRef, tail: z._default(z.number().check(z.int(), z.gte(0), z.lte(10_000)), 0) });
export const LogsStreamSpec = z.strictObject({ ref: ContainerRef, tail: z._default(z.number().check(z.int(), z.gte(0), z.lte(100_000)), 100), follow: z._default(z.boolean(), true) });
export const StatsStreamSpec = z.strictObject({ ref: ContainerRef });

/** Stream kinds the agent registers for containers. */
export const ContainerStreamKinds = {
  console: 'container-console',
  logs: 'container-logs',
  stats: 'container-stats',
  fileRead: 'file-read',
  fileWrite: 'file-write',
} as const;

const Ref = z.strictObject({ ref: ContainerRef });
const Empty = z.object({});

export const containerRpcDefinitions = {
  'containers.engine': { params: z.strictObject({}), result: EngineInfo },
  'containers.list': { params: z.strictObject({ all: z._default(z.boolean(), true) }), result: z.array(ContainerInfo) },
  'containers.inspect': { params: Ref, result: ContainerInfo },
  /** An ad-hoc container (not part of the declared set). */
  'containers.create': { params: z.strictObject({ spec: ContainerSpec, start: z._default(z.boolean(), false) }), result: ContainerInfo },
  'containers.power': {
    params: z.strictObject({ ref: ContainerRef, action: PowerAction, timeoutSec: z.optional(z.number().check(z.int(), z.gte(0), z.lte(3600))), signal: z.optional(z.string().check(z.regex(/^SIG[A-Z0-9]{1,10}$/))), wait: z._default(z.boolean(), true) }),
    result: ContainerInfo,
  },
  'containers.remove': { params: z.strictObject({ ref: ContainerRef, force: z._default(z.boolean(), false) }), result: Empty },
  'containers.logs': { params: z.strictObject({ ref: ContainerRef, tail: z._default(z.number().check(z.int(), z.gte(0), z.lte(10_000)), 100) }), result: z.object({ lines: z.array(ContainerLogLine), truncated: z.boolean() }) },
  'containers.stats': { params: Ref, result: ContainerStats },
  'servers.plan': { params: z.strictObject({ servers: DeclaredServers }), result: z.object({ steps: z.array(PlanStep) }) },
  'servers.apply': { params: z.strictObject({ servers: DeclaredServers }), result: ApplyResult },
  'files.list': { params: z.strictObject({ server: ServerName, path: z._default(FilePath, '/') }), result: z.array(FileEntry) },
  'files.stat': { params: z.strictObject({ server: ServerName, path: FilePath }), result: FileEntry },
  'files.rename': { params: z.strictObject({ server: ServerName, from: FilePath, to: FilePath }), result: Empty },
  'files.delete': { params: z.strictObject({ server: ServerName, path: FilePath }), result: Empty },
  'files.mkdir': { params: z.strictObject({ server: ServerName, path: FilePath }), result: Empty },
} as const;

// ---- Wings console websocket frames ----

// One console line or token per argument: 64 KB is far above either and bounds what a client can push.
export const WingsFrame = z.object({ event: z.string().check(z.minLength(1), z.maxLength(64)), args: z.optional(z.array(z.string().check(z.maxLength(65536))).check(z.maxLength(16))) });
export type WingsFrame = z.infer<typeof WingsFrame>;
export const WINGS_CLIENT_EVENTS = ['auth', 'send command', 'send logs', 'send stats', 'set state'] as const;
