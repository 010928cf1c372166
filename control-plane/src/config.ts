import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseFlags } from '@edgehook/shared/argv';
import * as z from '@edgehook/shared/zod';
import { parseStoreLocation, type StoreLocation } from './db/dialect.js';
import { KVM_DOMAIN } from './kvm/kvm-host.js';
import { VpnEndpoint } from '@edgehook/shared';
import { subnetProblem } from './vpn/address-pool.js';

const Port = z.coerce.number().check(z.int(), z.gte(0), z.lte(65535));
const Seconds = z.coerce.number().check(z.int(), z.gte(1));
// Retention periods: 36h, 7d, 2w (telemetry flags).
const DURATION_UNITS_MS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };
const Retention = z.pipe(z.string().check(z.regex(/^\d+[mhdw]$/, 'must be a duration like 36h, 7d or 2w')), z.transform((v) => Number(v.slice(0, -1)) * (DURATION_UNITS_MS[v.slice(-1)] ?? 0))).check(z.refine((ms) => ms >= 3_600_000, 'must be at least 1h'));
const Bool = z.pipe(z.enum(['true', 'false', '1', '0', 'yes', 'no']), z.transform((v) => v === 'true' || v === '1' || v === 'yes'));

/** Every flag, the environment variable that also sets it, and its schema. */
const FLAGS = {
  host: { env: 'EDGEHOOK_HOST', schema: z.string().check(z.minLength(1)), default: '127.0.0.1', help: 'HTTP listen address' },
  port: { env: 'EDGEHOOK_PORT', schema: Port, default: '8080', help: 'HTTP port (0 picks a free one)' },
  'mqtt-host': { env: 'EDGEHOOK_MQTT_HOST', schema: z.string().check(z.minLength(1)), default: '', help: 'MQTT listen address (default: same as --host)' },
  'mqtt-port': { env: 'EDGEHOOK_MQTT_PORT', schema: Port, default: '1883', help: 'MQTT TCP port of the embedded broker' },
  'mqtt-public-url': { env: 'EDGEHOOK_MQTT_PUBLIC_URL', schema: z.string().check(z.regex(/^(mqtts?|wss?):\/\//, 'must be an mqtt://, mqtts://, ws:// or wss:// URL')), default: '', help: 'broker URL handed to devices at enrollment (default: the host they enrolled through)' },
  'public-url': { env: 'EDGEHOOK_PUBLIC_URL', schema: z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' }), default: '', help: 'the URL devices and install commands use (behind a proxy; default: the address they came through)' },
  'tls-cert': { env: 'EDGEHOOK_TLS_CERT', schema: z.string().check(z.minLength(1)), default: '', help: 'PEM certificate (chain): serve HTTPS, wss and MQTT over TLS' },
  'tls-key': { env: 'EDGEHOOK_TLS_KEY', schema: z.string().check(z.minLength(1)), default: '', help: 'PEM private key of --tls-cert' },
  tls: { env: 'EDGEHOOK_TLS', schema: z.enum(['self-signed']), default: '', help: 'self-signed: generate a key and certificate once into <data-dir>/tls' },
  'mqtts-port': { env: 'EDGEHOOK_MQTTS_PORT', schema: Port, default: '8883', help: 'MQTT over TLS port when TLS is on' },
  'device-proxy': { env: 'EDGEHOOK_DEVICE_PROXY', schema: Bool, default: 'false', help: "serve device web UIs under /api/devices/<id>/proxy/<port>/ (they run in the console's origin: only for device pages you trust; docs/forward.md)" },
  'allow-plain': { env: 'EDGEHOOK_ALLOW_PLAIN', schema: Bool, default: 'false', help: 'with TLS on, keep plain MQTT on --mqtt-host too (else loopback only)' },
  broker: { env: 'EDGEHOOK_BROKER_URL', schema: z.string().check(z.regex(/^mqtts?:\/\/[^/]+$/, 'must be mqtt://HOST:PORT or mqtts://HOST:PORT')), default: '', help: 'external broker (Mosquitto 2 with dynamic security): no embedded broker' },
  'broker-username': { env: 'EDGEHOOK_BROKER_USERNAME', schema: z.string().check(z.minLength(1), z.maxLength(256)), default: '', help: "this replica's broker account (with --broker)" },
  'broker-password-file': { env: 'EDGEHOOK_BROKER_PASSWORD_FILE', schema: z.string().check(z.minLength(1)), default: '', help: 'file holding its password (or set EDGEHOOK_BROKER_PASSWORD; never a flag)' },
  'data-dir': { env: 'EDGEHOOK_DATA_DIR', schema: z.string().check(z.minLength(1)), default: './data', help: 'where the SQLite file and demo-agent state live' },
  database: { env: 'EDGEHOOK_DATABASE', schema: z.string(), default: '', help: 'SQLite path or postgres:// URL (default: <data-dir>/edgehook.db)' },
  'access-ttl': { env: 'EDGEHOOK_ACCESS_TTL', schema: Seconds, default: '3600', help: 'access token lifetime, seconds' },
  'refresh-ttl': { env: 'EDGEHOOK_REFRESH_TTL', schema: Seconds, default: String(30 * 24 * 3600), help: 'refresh token lifetime, seconds' },
  'secure-cookies': { env: 'EDGEHOOK_SECURE_COOKIES', schema: Bool, default: 'false', help: 'mark cookies Secure (behind HTTPS)' },
  demo: { env: 'EDGEHOOK_DEMO', schema: Bool, default: 'false', help: 'also run a simulated demo device' },
  'telemetry-raw-retention': { env: 'EDGEHOOK_TELEMETRY_RAW_RETENTION', schema: Retention, default: '7d', help: 'keep raw telemetry samples this long' },
  'telemetry-1m-retention': { env: 'EDGEHOOK_TELEMETRY_1M_RETENTION', schema: Retention, default: '90d', help: 'keep 1-minute telemetry aggregates this long' },
  'telemetry-1h-retention': { env: 'EDGEHOOK_TELEMETRY_1H_RETENTION', schema: Retention, default: '730d', help: 'keep 1-hour telemetry aggregates this long' },
  'telemetry-flush-ms': { env: 'EDGEHOOK_TELEMETRY_FLUSH_MS', schema: z.coerce.number().check(z.int(), z.gte(10), z.lte(60_000)), default: '200', help: 'telemetry write buffer: batches are committed (and acknowledged) at least this often' },
  'audit-retention': { env: 'EDGEHOOK_AUDIT_RETENTION', schema: Retention, default: '365d', help: 'keep audit log entries this long' },
  'wsi-token-ttl': { env: 'EDGEHOOK_WSI_TOKEN_TTL', schema: Seconds, default: '86400', help: 'Quix WSI backend token lifetime, seconds (the validity they are told)' },
  'wsi-telemetry-interval': { env: 'EDGEHOOK_WSI_TELEMETRY_INTERVAL', schema: z.coerce.number().check(z.int(), z.gte(0), z.lte(86_400)), default: '15', help: 'ask connected Quix WSI backends for telemetry every N seconds (0: only on request)' },
  'agent-package-dir': { env: 'EDGEHOOK_AGENT_PACKAGE_DIR', schema: z.string().check(z.minLength(1)), default: '', help: 'the built agent package served at /install.sh and /downloads/ (default: agent/dist-package)' },
  'agent-update-deadline': { env: 'EDGEHOOK_AGENT_UPDATE_DEADLINE', schema: z.coerce.number().check(z.int(), z.gte(2), z.lte(240)), default: '120', help: 'seconds (at most 240: the update request waits for it) a new agent version has to reach the control plane before the device rolls it back' },
  'encedeus-prefix': {
    env: 'EDGEHOOK_ENCEDEUS_PREFIX',
    schema: z.string().check(z.regex(/^(\/|off|(\/[A-Za-z0-9._~-]+)+)$/, 'must be /, off, or a path like /encedeus'), z.refine((p) => !/^\/(api|kvm|mqtt|assets)(\/|$)/.test(p), 'must not be under /api, /kvm, /mqtt or /assets'), z.refine((p) => !/\/\.\.?(\/|$)/.test(p), 'must not have . or .. segments')),
    default: '/',
    help: "where Encedeus's /auth, /user, /role live: / (root), a path prefix, or off",
  },
  'sftp-port': { env: 'EDGEHOOK_SFTP_PORT', schema: Port, default: '', help: 'serve SFTP into servers on this port (off by default; 0 picks a free one)' },
  'sftp-host': { env: 'EDGEHOOK_SFTP_HOST', schema: z.string().check(z.minLength(1)), default: '', help: 'SFTP listen address (default: same as --host)' },
  'kvm-domain': { env: 'EDGEHOOK_KVM_DOMAIN', schema: z.string().check(z.toLowerCase(), z.regex(KVM_DOMAIN, 'must be a DNS name like kvm.example.com')), default: '', help: 'serve <device>.<domain> as that device\'s PiKVM at /api and /streamer' },
  'vpn-endpoint': { env: 'EDGEHOOK_VPN_ENDPOINT', schema: VpnEndpoint, default: '', help: "the WireGuard hub's host:port devices dial (turns the VPN on; docs/vpn.md)" },
  'vpn-subnet': {
    env: 'EDGEHOOK_VPN_SUBNET',
    schema: z.string().check(z.refine((v) => subnetProblem(v) === undefined, { error: (i) => subnetProblem(String(i.input)) ?? 'invalid subnet' })),
    default: '10.87.0.0/24',
    help: 'the VPN address pool (IPv4 CIDR); the hub takes its first address',
  },
  'web-dir': { env: 'EDGEHOOK_WEB_DIR', schema: z.string().check(z.minLength(1)), default: '', help: 'built web console directory (default: control-plane/web/dist)' },
  'max-body': { env: 'EDGEHOOK_MAX_BODY', schema: z.coerce.number().check(z.int(), z.gte(1024)), default: String(1024 * 1024), help: 'largest JSON or form request body, bytes (413 above)' },
  'max-upload': { env: 'EDGEHOOK_MAX_UPLOAD', schema: z.coerce.number().check(z.int(), z.gte(1024)), default: String(4 * 1024 ** 3), help: 'largest streamed file upload, bytes (413 above)' },
  'max-header': { env: 'EDGEHOOK_MAX_HEADER', schema: z.coerce.number().check(z.int(), z.gte(4096), z.lte(1024 * 1024)), default: '16384', help: 'largest request head (request line + headers), bytes (431 above)' },
  'max-ws-frame': { env: 'EDGEHOOK_MAX_WS_FRAME', schema: z.coerce.number().check(z.int(), z.gte(1024)), default: String(1024 * 1024), help: 'largest websocket frame on operator sockets, bytes (closed with 1009 above)' },
  'max-sockets-per-user': { env: 'EDGEHOOK_MAX_SOCKETS_PER_USER', schema: z.coerce.number().check(z.int(), z.gte(1)), default: '32', help: 'open websockets one user may hold at once (429 above)' },
  'log-level': { env: 'EDGEHOOK_LOG_LEVEL', schema: z.enum(['debug', 'info', 'warn', 'error']), default: 'info', help: 'debug, info, warn or error' },
  'log-format': { env: 'EDGEHOOK_LOG_FORMAT', schema: z.enum(['pretty', 'json']), default: 'pretty', help: 'pretty or json' },
} as const;

type FlagName = keyof typeof FLAGS;

// One object schema over the raw strings: every problem is reported at once.
const RawConfig = z.object(
  Object.fromEntries(Object.entries(FLAGS).map(([name, f]) => [name, z.optional(f.schema)])) as { [K in FlagName]: z.ZodMiniOptional<(typeof FLAGS)[K]['schema']> },
);

/** Embedded aedes (the default) or an external Mosquitto this replica shares with others. */
export type BrokerConfig = { kind: 'embedded' } | { kind: 'external'; url: string; username: string; password: string };

export interface ServeConfig {
  broker: BrokerConfig;
  host: string;
  port: number;
  mqttHost: string;
  mqttPort: number;
  mqttPublicUrl: string | undefined;
  dataDir: string;
  store: StoreLocation;
  accessTtlMs: number;
  refreshTtlMs: number;
  secureCookies: boolean;
  demo: boolean;
  logLevel: 'debug' | 'info' | 'warn' | 'error';
  logFormat: 'pretty' | 'json';
  /** How long telemetry is kept: raw samples, 1-minute and 1-hour aggregates (ms). */
  telemetryRetention: { rawMs: number; minuteMs: number; hourMs: number };
  /** Telemetry write buffer: the longest a batch waits for its commit and acknowledgement (ms). */
  telemetryFlushMs: number;
  /** How long audit log entries are kept (ms). */
  auditRetentionMs: number;
  /** Quix WSI gateway (docs/wsi.md). */
  wsi: { tokenTtlMs: number; telemetryEveryMs: number };
  /** SFTP into servers: off when undefined; the host key lives in the data dir. */
  sftp: { host: string; port: number } | undefined;
  /** Encedeus API mount: '' is the root, false is off. */
  encedeusPrefix: string | false;
  /** The built web console; undefined means the package's own web/dist. */
  webDir: string | undefined;
  /** Request and socket bounds (bytes, counts). */
  limits: { maxBodyBytes: number; maxUploadBytes: number; maxHeaderBytes: number; maxWsFrameBytes: number; maxSocketsPerUser: number };
  /** Agent updates: how long a new version is on probation (ms). */
  agentUpdateDeadlineMs: number;
  /** The built agent package; undefined means the repository's agent/dist-package. */
  agentPackageDir: string | undefined;
  publicUrl: string | undefined;
  /** Certificate and key files, or generate a self-signed pair; undefined is plain HTTP/MQTT. */
  tls: { mode: 'files'; certFile: string; keyFile: string } | { mode: 'self-signed' } | undefined;
  mqttsPort: number;
  allowPlain: boolean;
  /** The HTTP proxy to device web UIs (off by default: a device's page runs in our origin). */
  deviceProxy: boolean;
  /** Host-based PiKVM addressing (kvm/kvm-host.ts); undefined = off. */
  kvmDomain: string | undefined;
  /** Only from the environment, so it never shows in `ps`. */
  adminPassword: string | undefined;
  /** The WireGuard hub (vpn/): off when no --vpn-endpoint is given. */
  vpn: { endpoint: string; subnet: string } | undefined;
}

export class ConfigError extends Error {}

export function serveHelp(): string {
  const lines = Object.entries(FLAGS).map(([name, f]) => `  --${name.padEnd(20)} ${f.help} [${f.env}]${f.default ? ` (default ${f.default})` : ''}`);
  return ['Usage: edgehook serve [options]', '', ...lines, '', 'EDGEHOOK_ADMIN_PASSWORD sets the first admin password (else one is generated and printed once).'].join('\n');
}

/** Flags win over environment variables, which win over defaults. Fails fast with every problem listed. */
export function loadServeConfig(argv: string[], env: NodeJS.ProcessEnv): ServeConfig {
  // A password flag would show in `ps` and shell history.
  if (argv.some((a) => a === '--broker-password' || a.startsWith('--broker-password='))) {
    throw new ConfigError('--broker-password is not accepted (it would show in ps): set EDGEHOOK_BROKER_PASSWORD or use --broker-password-file');
  }
  const options = Object.fromEntries(Object.keys(FLAGS).map((name) => [name, { type: 'string' as const }]));
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseFlags({ args: argv, options, strict: true, allowPositionals: false }).values;
  } catch (err) {
    throw new ConfigError(`${err instanceof Error ? err.message : String(err)}\n\n${serveHelp()}`);
  }
  const raw: Record<string, string | undefined> = {};
  for (const [name, flag] of Object.entries(FLAGS)) {
    const given = values[name];
    const value = typeof given === 'string' ? given : env[flag.env] ?? flag.default;
    raw[name] = value === '' ? undefined : value;
  }
  const parsed = RawConfig.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => {
      const name = String(i.path[0] ?? '');
      const flag = Object.entries(FLAGS).find(([n]) => n === name)?.[1];
      return `--${name}${flag ? ` / ${flag.env}` : ''}=${JSON.stringify(raw[name])}: ${i.message}`;
    });
    throw new ConfigError(`invalid configuration:\n  ${problems.join('\n  ')}`);
  }
  const v = parsed.data;
  const certFile = v['tls-cert'];
  const keyFile = v['tls-key'];
  if ((certFile === undefined) !== (keyFile === undefined)) throw new ConfigError('invalid configuration:\n  --tls-cert and --tls-key go together (EDGEHOOK_TLS_CERT / EDGEHOOK_TLS_KEY)');
  if (certFile !== undefined && v.tls === 'self-signed') throw new ConfigError('invalid configuration:\n  give either --tls-cert/--tls-key or --tls self-signed, not both');
  const tls: ServeConfig['tls'] = certFile !== undefined && keyFile !== undefined ? { mode: 'files', certFile: resolve(certFile), keyFile: resolve(keyFile) } : v.tls === 'self-signed' ? { mode: 'self-signed' } : undefined;
  const dataDir = resolve(v['data-dir'] ?? './data');
  const subnetGiven = typeof values['vpn-subnet'] === 'string' || Boolean(env['EDGEHOOK_VPN_SUBNET']);
  if (subnetGiven && v['vpn-endpoint'] === undefined) throw new ConfigError('invalid configuration:\n  --vpn-subnet needs --vpn-endpoint host:port (EDGEHOOK_VPN_ENDPOINT): the VPN is off without an endpoint');
  const config = {
    host: v.host ?? '127.0.0.1',
    port: v.port ?? 8080,
    mqttHost: v['mqtt-host'] ?? v.host ?? '127.0.0.1',
    mqttPort: v['mqtt-port'] ?? 1883,
    mqttPublicUrl: v['mqtt-public-url'],
    dataDir,
    accessTtlMs: (v['access-ttl'] ?? 3600) * 1000,
    refreshTtlMs: (v['refresh-ttl'] ?? 30 * 24 * 3600) * 1000,
    // Under HTTPS cookies are Secure whatever the flag says.
    secureCookies: (v['secure-cookies'] ?? false) || tls !== undefined || (v['public-url'] ?? '').startsWith('https:'),
    publicUrl: v['public-url']?.replace(/\/+$/, ''),
    tls,
    mqttsPort: v['mqtts-port'] ?? 8883,
    allowPlain: v['allow-plain'] ?? false,
    deviceProxy: v['device-proxy'] ?? false,
    demo: v.demo ?? false,
    logLevel: v['log-level'] ?? 'info',
    logFormat: v['log-format'] ?? 'pretty',
    telemetryRetention: {
      rawMs: v['telemetry-raw-retention'] ?? 7 * 86_400_000,
      minuteMs: v['telemetry-1m-retention'] ?? 90 * 86_400_000,
      hourMs: v['telemetry-1h-retention'] ?? 730 * 86_400_000,
    },
    limits: {
      maxBodyBytes: v['max-body'] ?? 1024 * 1024,
      maxUploadBytes: v['max-upload'] ?? 4 * 1024 ** 3,
      maxHeaderBytes: v['max-header'] ?? 16384,
      maxWsFrameBytes: v['max-ws-frame'] ?? 1024 * 1024,
      maxSocketsPerUser: v['max-sockets-per-user'] ?? 32,
    },
    telemetryFlushMs: v['telemetry-flush-ms'] ?? 200,
    auditRetentionMs: v['audit-retention'] ?? 365 * 86_400_000,
    agentUpdateDeadlineMs: (v['agent-update-deadline'] ?? 120) * 1000,
    wsi: { tokenTtlMs: (v['wsi-token-ttl'] ?? 86_400) * 1000, telemetryEveryMs: (v['wsi-telemetry-interval'] ?? 15) * 1000 },
    agentPackageDir: v['agent-package-dir'] === undefined ? undefined : resolve(v['agent-package-dir']),
    webDir: v['web-dir'] === undefined ? undefined : resolve(v['web-dir']),
    sftp: v['sftp-port'] === undefined ? undefined : { host: v['sftp-host'] ?? v.host ?? '127.0.0.1', port: v['sftp-port'] },
    encedeusPrefix: v['encedeus-prefix'] === 'off' ? (false as const) : v['encedeus-prefix'] === undefined || v['encedeus-prefix'] === '/' ? '' : v['encedeus-prefix'],
    kvmDomain: v['kvm-domain'],
    adminPassword: env['EDGEHOOK_ADMIN_PASSWORD'] || undefined,
    vpn: v['vpn-endpoint'] === undefined ? undefined : { endpoint: v['vpn-endpoint'], subnet: v['vpn-subnet'] ?? '10.87.0.0/24' },
  };
  const database = v.database;
  return Object.freeze({ ...config, broker: brokerConfig(v.broker, v['broker-username'], v['broker-password-file'], env), store: parseStoreLocation(database ?? join(dataDir, 'edgehook.db')) });
}

function brokerConfig(url: string | undefined, username: string | undefined, passwordFile: string | undefined, env: NodeJS.ProcessEnv): BrokerConfig {
  if (url === undefined) {
    if (username !== undefined || passwordFile !== undefined) throw new ConfigError('--broker-username and --broker-password-file need --broker (EDGEHOOK_BROKER_URL)');
    return { kind: 'embedded' };
  }
  if (username === undefined) throw new ConfigError('--broker needs --broker-username (EDGEHOOK_BROKER_USERNAME): the replica logs in with its own broker account');
  let password = env['EDGEHOOK_BROKER_PASSWORD'];
  if (passwordFile !== undefined) {
    try {
      password = readFileSync(passwordFile, 'utf8').replace(/\r?\n$/, '');
    } catch (err) {
      throw new ConfigError(`--broker-password-file ${passwordFile}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  if (!password) throw new ConfigError('--broker needs a password: set EDGEHOOK_BROKER_PASSWORD or --broker-password-file');
  return { kind: 'external', url, username, password };
}
