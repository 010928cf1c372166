import os from 'node:os';
import { resolve } from 'node:path';
import { parseFlags } from '@edgehook/shared/argv';
import * as z from '@edgehook/shared/zod';
import { BoardProfileId, VpnMode } from '@edgehook/shared';
import { IFNAME_PATTERN } from './vpn/vpn-driver.js';
import { AGENT_VERSION } from './version.js';
import type { HostAccessPolicy } from './containers/host-access.js';
import { ServerFingerprint } from '@edgehook/shared/transport';
import { DEFAULT_FORWARD_ALLOW, ForwardAllow, type ForwardRule } from './forward/allow-list.js';
import { BufferAge, CollectorOverrides, LocalPort, TelemetryInterval, type TelemetryConfig } from './telemetry/telemetry-config.js';

const FLAGS = {
  server: { env: 'EDGEHOOK_SERVER', help: 'control-plane URL, e.g. http://192.168.1.10:8080' },
  enroll: { env: 'EDGEHOOK_ENROLL_TOKEN', help: 'enrollment token (first start only; prefer the variable or --enroll-token-file: argv shows in ps)' },
  'enroll-token-file': { env: 'EDGEHOOK_ENROLL_TOKEN_FILE', help: 'read the enrollment token from this file (- for stdin); the file is deleted once enrolled' },
  'state-dir': { env: 'EDGEHOOK_STATE_DIR', help: 'where credentials are kept (default /var/lib/edgehook-agent)' },
  profile: { env: 'EDGEHOOK_PROFILE', help: 'board profile id (default generic-linux)' },
  hostname: { env: 'EDGEHOOK_HOSTNAME', help: 'name to enroll under (default: the system hostname)' },
  ca: { env: 'EDGEHOOK_CA', help: 'PEM file of the CA that signed the control plane\'s certificate (default: the system CAs)' },
  'server-fingerprint': { env: 'EDGEHOOK_SERVER_FINGERPRINT', help: 'pin the control plane\'s certificate: sha256:HEX as `edgehook serve` prints' },
  'mqtt-transport': { env: 'EDGEHOOK_MQTT_TRANSPORT', help: 'tcp, ws (MQTT over websocket, for proxies that pass only HTTP) or auto (default: ws when only the websocket URL is TLS)' },
  'log-level': { env: 'EDGEHOOK_LOG_LEVEL', help: 'debug, info, warn or error' },
  'log-format': { env: 'EDGEHOOK_LOG_FORMAT', help: 'pretty or json' },
  actions: { env: 'EDGEHOOK_ACTIONS', help: 'JSON file declaring the server-defined processes (pow-1 calls)' },
  pty: { env: 'EDGEHOOK_PTY', help: 'node-pty (real terminals, default) or simulated' },
  'exec-arbitrary': { env: 'EDGEHOOK_EXEC_ARBITRARY', help: 'on (default) or off: run arbitrary commands for roles allowed to' },
  'telemetry-interval': { env: 'EDGEHOOK_TELEMETRY_INTERVAL', help: 'collect and send telemetry this often (default 10s)' },
  'telemetry-collectors': { env: 'EDGEHOOK_TELEMETRY_COLLECTORS', help: 'per-collector intervals or off, e.g. disk=60s,wireguard=off' },
  'telemetry-buffer-mb': { env: 'EDGEHOOK_TELEMETRY_BUFFER_MB', help: 'on-disk buffer for telemetry while offline, MB (default 64)' },
  'telemetry-buffer-max-age': { env: 'EDGEHOOK_TELEMETRY_BUFFER_MAX_AGE', help: 'drop buffered telemetry older than this (default 7d)' },
  'telemetry-replay-rate': { env: 'EDGEHOOK_TELEMETRY_REPLAY_RATE', help: 'buffered batches replayed per second after an outage (default 20)' },
  'telemetry-port': { env: 'EDGEHOOK_TELEMETRY_PORT', help: 'port on 127.0.0.1 where local apps push custom series (default 7677; off)' },
  'docker-socket': { env: 'EDGEHOOK_DOCKER_SOCKET', help: 'Docker Engine API socket (default /var/run/docker.sock, else a Podman socket that exists)' },
  'lifeline-fd': { env: 'EDGEHOOK_LIFELINE_FD', help: 'exit when this inherited pipe closes (the parent that started us died)' },
  'install-dir': { env: 'EDGEHOOK_INSTALL_DIR', help: 'the versioned install (versions/<v>/, current) that updates go into; the launcher sets it (default: none, updates refused)' },
  replace: { env: 'EDGEHOOK_REPLACE', help: 'on: stop another agent running with this state dir instead of refusing to start (default off)' },
  'container-engine': { env: 'EDGEHOOK_CONTAINER_ENGINE', help: 'docker (the Docker API socket, default) or simulated' },
  vpn: { env: 'EDGEHOOK_VPN', help: 'off (default), apply (wg-quick from wireguard-tools, needs root) or simulate: the WireGuard VPN (docs/vpn.md)' },
  'vpn-interface': { env: 'EDGEHOOK_VPN_INTERFACE', help: 'the WireGuard interface name (default edgehook0)' },
  'container-host-paths': { env: 'EDGEHOOK_CONTAINER_HOST_PATHS', help: 'comma-separated host directories containers may bind-mount (default: none, only their data dir)' },
  'container-privileged': { env: 'EDGEHOOK_CONTAINER_PRIVILEGED', help: 'on or off (default): allow privileged containers' },
  'container-host-network': { env: 'EDGEHOOK_CONTAINER_HOST_NETWORK', help: "on or off (default): allow containers on the host's network" },
  'container-host-pid': { env: 'EDGEHOOK_CONTAINER_HOST_PID', help: "on or off (default): allow containers in the host's PID namespace" },
  'container-devices': { env: 'EDGEHOOK_CONTAINER_DEVICES', help: 'comma-separated /dev nodes containers may be given, or all (default: none)' },
  'container-capabilities': { env: 'EDGEHOOK_CONTAINER_CAPABILITIES', help: 'comma-separated capabilities containers may add, or all (default: none)' },
  'forward-allow': { env: 'EDGEHOOK_FORWARD_ALLOW', help: `destinations edgehook forward and the HTTP proxy may reach, e.g. 127.0.0.1:*,192.168.1.0/24:22, or off (default ${DEFAULT_FORWARD_ALLOW})` },
} as const;

const OnOff = z._default(z.enum(['on', 'off']), 'off');
const list = (item: z.ZodMiniString<string>) =>
  z.pipe(z.pipe(z.string(), z.transform((v) => v.split(',').map((x) => x.trim()).filter(Boolean))), z.array(item));
const AllOrList = (item: z.ZodMiniString<string>) => z._default(z.union([z.literal('all'), list(item)]), []);

const AgentConfigSchema = z.object({
  server: z.optional(z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' })),
  enroll: z.optional(z.string().check(z.minLength(10, 'looks too short to be an enrollment token'))),
  'enroll-token-file': z.optional(z.string().check(z.minLength(1))),
  'state-dir': z._default(z.string().check(z.minLength(1)), '/var/lib/edgehook-agent'),
  'install-dir': z.optional(z.string().check(z.minLength(1))),
  profile: z._default(BoardProfileId, 'generic-linux'),
  hostname: z._default(z.string().check(z.minLength(1), z.maxLength(253)), os.hostname()),
  ca: z.optional(z.string().check(z.minLength(1))),
  'server-fingerprint': z.optional(ServerFingerprint),
  'mqtt-transport': z._default(z.enum(['tcp', 'ws', 'auto']), 'auto'),
  'log-level': z._default(z.enum(['debug', 'info', 'warn', 'error']), 'info'),
  'log-format': z._default(z.enum(['pretty', 'json']), 'pretty'),
  actions: z.optional(z.string().check(z.minLength(1))),
  pty: z._default(z.enum(['node-pty', 'simulated']), 'node-pty'),
  'exec-arbitrary': z._default(z.enum(['on', 'off']), 'on'),
  'telemetry-interval': z._default(TelemetryInterval, 10_000),
  'telemetry-collectors': z._default(CollectorOverrides, {}),
  'telemetry-buffer-mb': z._default(z.coerce.number().check(z.gte(0.01), z.lte(100_000)), 64),
  'telemetry-buffer-max-age': z._default(BufferAge, 7 * 86_400_000),
  'telemetry-replay-rate': z._default(z.coerce.number().check(z.gte(0.1), z.lte(10_000)), 20),
  'telemetry-port': z._default(LocalPort, 7677),
  'docker-socket': z.optional(z.string().check(z.minLength(1), z.maxLength(4096))),
  'container-engine': z._default(z.enum(['docker', 'simulated']), 'docker'),
  'container-host-paths': z._default(list(z.string().check(z.regex(/^\/[^\0:,]*$/, 'an absolute host path without ":"'))), []),
  'container-privileged': OnOff,
  'container-host-network': OnOff,
  'container-host-pid': OnOff,
  'container-devices': AllOrList(z.string().check(z.regex(/^\/dev\/[^\0:,]+$/, 'a device path under /dev'))),
  'container-capabilities': AllOrList(z.string().check(z.regex(/^(CAP_)?[A-Za-z_]{2,32}$/, 'a capability name like NET_ADMIN'))),
  vpn: z._default(VpnMode, 'off'),
  'vpn-interface': z._default(z.string().check(z.regex(IFNAME_PATTERN, 'must be an interface name of 1-15 letters, digits or _=+.-')), 'edgehook0'),
  'lifeline-fd': z.optional(z.coerce.number().check(z.int(), z.gte(3), z.lte(1024))),
  replace: z._default(z.enum(['on', 'off']), 'off'),
  'forward-allow': z.prefault(ForwardAllow, DEFAULT_FORWARD_ALLOW),
});

export interface AgentConfig {
  server: string | undefined;
  enrollToken: string | undefined;
  /** main.ts reads the token from it (or stdin for `-`) into enrollToken. */
  enrollTokenFile: string | undefined;
  /** Enroll, save the credentials and exit (the installer's step); already enrolled is success. */
  enrollOnly: boolean;
  stateDir: string;
  /** Where updates are installed (docs/agent-updates.md); undefined: not a versioned install, updates refused. */
  installDir: string | undefined;
  profile: string;
  hostname: string;
  mqttTransport: 'tcp' | 'ws' | 'auto';
  /** How to trust a TLS control plane: a CA file (read by main.ts) and/or a pinned fingerprint. */
  tls: { caFile: string | undefined; fingerprint: string | undefined };
  logLevel: 'debug' | 'info' | 'warn' | 'error';
  logFormat: 'pretty' | 'json';
  actionsFile: string | undefined;
  pty: 'node-pty' | 'simulated';
  execArbitrary: boolean;
  telemetry: TelemetryConfig;
  /** Given socket path (unix:// accepted); undefined means look in the usual places. */
  dockerSocket: string | undefined;
  containerEngine: 'docker' | 'simulated';
  /** What containers may reach on the host; nothing beyond their data directory by default. */
  containerHostAccess: HostAccessPolicy;
  /** An inherited pipe whose closing means the parent died: the agent then exits. */
  lifelineFd: number | undefined;
  /** Stop a live agent holding the state dir instead of refusing to start. */
  replace: boolean;
  /** WireGuard: off, applied with wireguard-tools, or simulated; and the interface's name. */
  vpn: { mode: VpnMode; ifname: string };
  /** Destinations forwards may reach (checked on the resolved address). */
  forwardAllow: readonly ForwardRule[];
}

export class ConfigError extends Error {}
/** `--help` or `--version`: the message goes to stdout and the program exits 0. */
export class ConfigInfo extends ConfigError {}

export function agentHelp(): string {
  const lines = Object.entries(FLAGS).map(([name, f]) => `  --${name.padEnd(24)} ${f.help} [${f.env}]`);
  return ['Usage: edgehook-agent --server URL --enroll TOKEN [options]', '       edgehook-agent [options]   (after enrollment)', '       edgehook-agent --server URL --enroll-token-file FILE --enroll-only   (enroll, save, exit)', '', ...lines, `  --${'enroll-only'.padEnd(24)} enroll, save the credentials and exit`, `  --${'version'.padEnd(24)} print the version`, `  --${'help'.padEnd(24)} show this help`].join('\n');
}

export function loadAgentConfig(argv: string[], env: NodeJS.ProcessEnv): AgentConfig {
  const options = Object.fromEntries(Object.keys(FLAGS).map((name) => [name, { type: 'string' as const }]));
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseFlags({ args: argv, options: { ...options, help: { type: 'boolean', short: 'h' }, version: { type: 'boolean', short: 'V' }, 'enroll-only': { type: 'boolean' } }, strict: true, allowPositionals: false }).values;
  } catch (err) {
    throw new ConfigError(`${err instanceof Error ? err.message : String(err)}\n\n${agentHelp()}`);
  }
  if (values['help'] === true) throw new ConfigInfo(agentHelp());
  if (values['version'] === true) throw new ConfigInfo(`edgehook-agent ${AGENT_VERSION}`);
  const raw: Record<string, string | undefined> = {};
  for (const [name, flag] of Object.entries(FLAGS)) {
    const given = values[name];
    const value = typeof given === 'string' ? given : env[flag.env];
    raw[name] = value === '' ? undefined : value;
  }
  const parsed = AgentConfigSchema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `--${String(i.path[0] ?? '')}=${JSON.stringify(raw[String(i.path[0] ?? '')])}: ${i.message}`);
    throw new ConfigError(`invalid configuration:\n  ${problems.join('\n  ')}\n\n${agentHelp()}`);
  }
  const v = parsed.data;
  return Object.freeze({
    server: v.server,
    enrollToken: v.enroll,
    enrollTokenFile: v['enroll-token-file'] === undefined || v['enroll-token-file'] === '-' ? v['enroll-token-file'] : resolve(v['enroll-token-file']),
    enrollOnly: values['enroll-only'] === true,
    stateDir: resolve(v['state-dir']),
    installDir: v['install-dir'] === undefined ? undefined : resolve(v['install-dir']),
    profile: v.profile,
    hostname: v.hostname,
    mqttTransport: v['mqtt-transport'],
    tls: { caFile: v.ca === undefined ? undefined : resolve(v.ca), fingerprint: v['server-fingerprint'] },
    logLevel: v['log-level'],
    logFormat: v['log-format'],
    actionsFile: v.actions === undefined ? undefined : resolve(v.actions),
    pty: v.pty,
    execArbitrary: v['exec-arbitrary'] === 'on',
    telemetry: {
      intervalMs: v['telemetry-interval'],
      collectors: v['telemetry-collectors'],
      bufferBytes: Math.round(v['telemetry-buffer-mb'] * 1024 * 1024),
      bufferMaxAgeMs: v['telemetry-buffer-max-age'],
      replayPerSecond: v['telemetry-replay-rate'],
      localPort: v['telemetry-port'],
    },
    dockerSocket: v['docker-socket'],
    containerEngine: v['container-engine'],
    containerHostAccess: {
      hostPaths: v['container-host-paths'].map((p) => resolve(p)),
      privileged: v['container-privileged'] === 'on',
      hostNetwork: v['container-host-network'] === 'on',
      hostPid: v['container-host-pid'] === 'on',
      devices: v['container-devices'],
      capabilities: v['container-capabilities'],
    },
    lifelineFd: v['lifeline-fd'],
    replace: v.replace === 'on',
    vpn: { mode: v.vpn, ifname: v['vpn-interface'] },
    forwardAllow: v['forward-allow'],
  });
}
