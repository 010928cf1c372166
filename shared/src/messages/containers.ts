import { z } from 'zod';

/**
 * Containers ("servers" in the Encedeus/Skyhook spec, as Pterodactyl Wings runs them): the RPC
 * methods the control plane calls on an agent, the stream kinds for consoles, logs, stats and file
 * transfer, the declared set of servers and the Wings console frames.
 */

/** A server name: also its container name and data directory name, so no path or shell tricks. */
export const ServerName = z.string().regex(/^[a-z0-9][a-z0-9_.-]{0,62}$/, 'a name is 1-63 of a-z 0-9 _ . - starting with a letter or digit');
/** A container reference: an engine id (hex, full or prefix) or a container name. */
export const ContainerRef = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/, 'a container id or name');

export const PortMapping = z
  .object({
    container: z.number().int().min(1).max(65535),
    host: z.number().int().min(1).max(65535),
    protocol: z.enum(['tcp', 'udp']).default('tcp'),
    hostIp: z.union([z.ipv4(), z.ipv6()]).optional(),
  })
  .strict();

/** A bind mount. `source` is an absolute host path, or relative to the server's data directory. */
export const VolumeMount = z
  .object({
    source: z.string().min(1).max(4096),
    target: z.string().regex(/^\/[^\0]*$/, 'an absolute path in the container').max(4096),
    readOnly: z.boolean().default(false),
  })
  .strict();

export const RestartPolicy = z.enum(['no', 'always', 'unless-stopped', 'on-failure']);

/** A host device node passed into the container (needs the agent's --container-devices). */
export const DeviceMapping = z
  .object({
    host: z.string().regex(/^\/dev\/[^\0:]+$/, 'a device path under /dev'),
    container: z.string().regex(/^\/[^\0:]*$/).max(4096).optional(),
    permissions: z.string().regex(/^[rwm]{1,3}$/).default('rwm'),
  })
  .strict();
/** Linux capability names as Docker takes them (CAP_ prefix optional). */
export const CapabilityName = z.string().regex(/^(CAP_)?[A-Z_]{2,32}$/, 'a capability name like NET_ADMIN');

/** What to run. Edgehook owns the labels under `io.edgehook.`; callers may add their own. */
export const ContainerSpec = z
  .object({
    name: ServerName,
    image: z.string().min(1).max(512).regex(/^[^\s]+$/, 'an image reference without spaces'),
    cmd: z.array(z.string().max(65536)).max(1024).optional(),
    entrypoint: z.array(z.string().max(65536)).max(64).optional(),
    env: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'an environment variable name'), z.string().max(65536)).default({}),
    ports: z.array(PortMapping).max(64).default([]),
    volumes: z.array(VolumeMount).max(64).default([]),
    /** Where the server's data directory (the root of the files API) is mounted; null for none. */
    dataMount: z.string().regex(/^\/[^\0]*$/).max(4096).nullable().default('/data'),
    restartPolicy: RestartPolicy.default('no'),
    memoryBytes: z.number().int().min(4 * 1024 * 1024).max(2 ** 45).optional(),
    /** CPU limit in cores (0.5 = half a core). */
    cpus: z.number().min(0.01).max(1024).optional(),
    labels: z
      .record(z.string().max(256).refine((k) => !k.startsWith('io.edgehook.'), 'labels under io.edgehook. are reserved'), z.string().max(4096))
      .default({}),
    /** A terminal for the console (interactive shells want one; servers that log usually not). */
    tty: z.boolean().default(false),
    workingDir: z.string().max(4096).optional(),
    /** Seconds a stop waits before the engine kills the container. */
    stopTimeoutSec: z.number().int().min(0).max(3600).default(10),
    // Host access: each is refused unless the agent was started with the flag that allows it
    // (root on the device otherwise). Optional, so specs without them keep their hash.
    privileged: z.boolean().optional(),
    networkMode: z.enum(['bridge', 'host', 'none']).optional(),
    pidMode: z.enum(['host']).optional(),
    devices: z.array(DeviceMapping).max(64).optional(),
    capAdd: z.array(CapabilityName).max(64).optional(),
  })
  .strict();
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
  server: z.string().nullable(),
  declared: z.boolean(),
  createdAt: z.number(),
  startedAt: z.number().nullable(),
  finishedAt: z.number().nullable(),
  exitCode: z.number().int().nullable(),
  ports: z.array(z.object({ container: z.number().int(), host: z.number().int().nullable(), protocol: z.string() })),
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
export const DeclaredServer = ContainerSpec.extend({ desired: z.enum(['running', 'stopped']).default('running') });
export type DeclaredServer = z.output<typeof DeclaredServer>;

export const DeclaredServers = z
  .array(DeclaredServer)
  .max(256)
  .superRefine((list, ctx) => {
    const seen = new Set<string>();
    list.forEach((s, i) => {
      if (seen.has(s.name)) ctx.addIssue({ code: "custom", path: [i, 'name'], message: `server ${s.name} is declared twice` });
      seen.add(s.name);
    });
  });

export const ServersPutBody = z.object({ servers: DeclaredServers }).strict();

export const StepOutcome = z.object({ step: PlanStep, ok: z.boolean(), error: z.string().optional(), ms: z.number() });
export const ApplyResult = z.object({ steps: z.array(StepOutcome), ok: z.boolean() });
export type ApplyResult = z.infer<typeof ApplyResult>;

// ---- Files (inside one server's data directory) ----

/** A path relative to the server root ("/" is the root). The agent resolves real paths and refuses escapes. */
export const FilePath = z.string().min(1).max(4096).refine((p) => !p.includes('\0'), 'a path may not contain NUL');
export const FileEntry = z.object({
  name: z.string(),
  type: z.enum(['file', 'directory', 'symlink', 'other']),
  size: z.number(),
  mode: z.string(),
  modifiedAt: z.number(),
});
export type FileEntry = z.infer<typeof FileEntry>;

export const FileReadSpec = z.object({ server: ServerName, path: FilePath }).strict();
/** Upload: input bytes are written to a temporary file that replaces `path` once complete. */
export const FileWriteSpec = z.object({ server: ServerName, path: FilePath, size: z.number().int().min(0).max(2 ** 40).optional() }).strict();
export const ConsoleSpec = z.object({ ref: ContainerRef, tail: z.number().int().min(0).max(10_000).default(0) }).strict();
export const LogsStreamSpec = z.object({ ref: ContainerRef, tail: z.number().int().min(0).max(100_000).default(100), follow: z.boolean().default(true) }).strict();
export const StatsStreamSpec = z.object({ ref: ContainerRef }).strict();

/** Stream kinds the agent registers for containers. */
export const ContainerStreamKinds = {
  console: 'container-console',
  logs: 'container-logs',
  stats: 'container-stats',
  fileRead: 'file-read',
  fileWrite: 'file-write',
} as const;

const Ref = z.object({ ref: ContainerRef }).strict();
const Empty = z.object({});

export const containerRpcDefinitions = {
  'containers.engine': { params: z.object({}).strict(), result: EngineInfo },
  'containers.list': { params: z.object({ all: z.boolean().default(true) }).strict(), result: z.array(ContainerInfo) },
  'containers.inspect': { params: Ref, result: ContainerInfo },
  /** An ad-hoc container (not part of the declared set). */
  'containers.create': { params: z.object({ spec: ContainerSpec, start: z.boolean().default(false) }).strict(), result: ContainerInfo },
  'containers.power': {
    params: z.object({ ref: ContainerRef, action: PowerAction, timeoutSec: z.number().int().min(0).max(3600).optional(), signal: z.string().regex(/^SIG[A-Z0-9]{1,10}$/).optional(), wait: z.boolean().default(true) }).strict(),
    result: ContainerInfo,
  },
  'containers.remove': { params: z.object({ ref: ContainerRef, force: z.boolean().default(false) }).strict(), result: Empty },
  'containers.logs': { params: z.object({ ref: ContainerRef, tail: z.number().int().min(0).max(10_000).default(100) }).strict(), result: z.object({ lines: z.array(ContainerLogLine), truncated: z.boolean() }) },
  'containers.stats': { params: Ref, result: ContainerStats },
  'servers.plan': { params: z.object({ servers: DeclaredServers }).strict(), result: z.object({ steps: z.array(PlanStep) }) },
  'servers.apply': { params: z.object({ servers: DeclaredServers }).strict(), result: ApplyResult },
  'files.list': { params: z.object({ server: ServerName, path: FilePath.default('/') }).strict(), result: z.array(FileEntry) },
  'files.stat': { params: z.object({ server: ServerName, path: FilePath }).strict(), result: FileEntry },
  'files.rename': { params: z.object({ server: ServerName, from: FilePath, to: FilePath }).strict(), result: Empty },
  'files.delete': { params: z.object({ server: ServerName, path: FilePath }).strict(), result: Empty },
  'files.mkdir': { params: z.object({ server: ServerName, path: FilePath }).strict(), result: Empty },
} as const;

// ---- Wings console websocket frames ----

// One console line or token per argument: 64 KB is far above either and bounds what a client can push.
export const WingsFrame = z.object({ event: z.string().min(1).max(64), args: z.array(z.string().max(65536)).max(16).optional() });
export type WingsFrame = z.infer<typeof WingsFrame>;
export const WINGS_CLIENT_EVENTS = ['auth', 'send command', 'send logs', 'send stats', 'set state'] as const;
