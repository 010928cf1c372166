import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { parseStoreLocation, type StoreLocation } from './db/dialect.js';
import { KVM_DOMAIN } from './kvm/kvm-host.js';

const Port = z.coerce.number().int().min(0).max(65535);
const Seconds = z.coerce.number().int().min(1);
// Retention periods: 36h, 7d, 2w (telemetry flags).
const DURATION_UNITS_MS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };
const Retention = z
  .string()
  .regex(/^\d+[mhdw]$/, 'must be a duration like 36h, 7d or 2w')
  .transform((v) => Number(v.slice(0, -1)) * (DURATION_UNITS_MS[v.slice(-1)] ?? 0))
  .refine((ms) => ms >= 3_600_000, 'must be at least 1h');
const Bool = z.enum(['true', 'false', '1', '0', 'yes', 'no']).transform((v) => v === 'true' || v === '1' || v === 'yes');

/** Every flag, the environment variable that also sets it, and its schema. */
const FLAGS = {
  host: { env: 'EDGEHOOK_HOST', schema: z.string().min(1), default: '127.0.0.1', help: 'HTTP listen address' },
  port: { env: 'EDGEHOOK_PORT', schema: Port, default: '8080', help: 'HTTP port (0 picks a free one)' },
  'mqtt-host': { env: 'EDGEHOOK_MQTT_HOST', schema: z.string().min(1), default: '', help: 'MQTT listen address (default: same as --host)' },
  'mqtt-port': { env: 'EDGEHOOK_MQTT_PORT', schema: Port, default: '1883', help: 'MQTT TCP port of the embedded broker' },
  'mqtt-public-url': { env: 'EDGEHOOK_MQTT_PUBLIC_URL', schema: z.string().regex(/^(mqtts?|wss?):\/\//, 'must be an mqtt://, mqtts://, ws:// or wss:// URL'), default: '', help: 'broker URL handed to devices at enrollment (default: the host they enrolled through)' },
  'data-dir': { env: 'EDGEHOOK_DATA_DIR', schema: z.string().min(1), default: './data', help: 'where the SQLite file and demo-agent state live' },
  database: { env: 'EDGEHOOK_DATABASE', schema: z.string(), default: '', help: 'SQLite path or postgres:// URL (default: <data-dir>/edgehook.db)' },
  'access-ttl': { env: 'EDGEHOOK_ACCESS_TTL', schema: Seconds, default: '3600', help: 'access token lifetime, seconds' },
  'refresh-ttl': { env: 'EDGEHOOK_REFRESH_TTL', schema: Seconds, default: String(30 * 24 * 3600), help: 'refresh token lifetime, seconds' },
  'secure-cookies': { env: 'EDGEHOOK_SECURE_COOKIES', schema: Bool, default: 'false', help: 'mark cookies Secure (behind HTTPS)' },
  demo: { env: 'EDGEHOOK_DEMO', schema: Bool, default: 'false', help: 'also run a simulated demo device' },
  'telemetry-raw-retention': { env: 'EDGEHOOK_TELEMETRY_RAW_RETENTION', schema: Retention, default: '7d', help: 'keep raw telemetry samples this long' },
  'telemetry-1m-retention': { env: 'EDGEHOOK_TELEMETRY_1M_RETENTION', schema: Retention, default: '90d', help: 'keep 1-minute telemetry aggregates this long' },
  'telemetry-1h-retention': { env: 'EDGEHOOK_TELEMETRY_1H_RETENTION', schema: Retention, default: '730d', help: 'keep 1-hour telemetry aggregates this long' },
  'kvm-domain': { env: 'EDGEHOOK_KVM_DOMAIN', schema: z.string().toLowerCase().regex(KVM_DOMAIN, 'must be a DNS name like kvm.example.com'), default: '', help: 'serve <device>.<domain> as that device\'s PiKVM at /api and /streamer' },
  'web-dir': { env: 'EDGEHOOK_WEB_DIR', schema: z.string().min(1), default: '', help: 'built web console directory (default: control-plane/web/dist)' },
  'log-level': { env: 'EDGEHOOK_LOG_LEVEL', schema: z.enum(['debug', 'info', 'warn', 'error']), default: 'info', help: 'debug, info, warn or error' },
  'log-format': { env: 'EDGEHOOK_LOG_FORMAT', schema: z.enum(['pretty', 'json']), default: 'pretty', help: 'pretty or json' },
} as const;

type FlagName = keyof typeof FLAGS;

// One object schema over the raw strings: every problem is reported at once.
const RawConfig = z.object(
  Object.fromEntries(Object.entries(FLAGS).map(([name, f]) => [name, f.schema.optional()])) as { [K in FlagName]: z.ZodOptional<(typeof FLAGS)[K]['schema']> },
);

export interface ServeConfig {
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
  /** The built web console; undefined means the package's own web/dist. */
  webDir: string | undefined;
  /** Host-based PiKVM addressing (kvm/kvm-host.ts); undefined = off. */
  kvmDomain: string | undefined;
  /** Only from the environment, so it never shows in `ps`. */
  adminPassword: string | undefined;
}

export class ConfigError extends Error {}

export function serveHelp(): string {
  const lines = Object.entries(FLAGS).map(([name, f]) => `  --${name.padEnd(16)} ${f.help} [${f.env}]${f.default ? ` (default ${f.default})` : ''}`);
  return ['Usage: edgehook serve [options]', '', ...lines, '', 'EDGEHOOK_ADMIN_PASSWORD sets the first admin password (else one is generated and printed once).'].join('\n');
}

/** Flags win over environment variables, which win over defaults. Fails fast with every problem listed. */
export function loadServeConfig(argv: string[], env: NodeJS.ProcessEnv): ServeConfig {
  const options = Object.fromEntries(Object.keys(FLAGS).map((name) => [name, { type: 'string' as const }]));
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({ args: argv, options, strict: true, allowPositionals: false }).values;
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
      const flag = Object.hasOwn(FLAGS, name) ? FLAGS[name as FlagName] : undefined;
      return `--${name}${flag ? ` / ${flag.env}` : ''}=${JSON.stringify(raw[name])}: ${i.message}`;
    });
    throw new ConfigError(`invalid configuration:\n  ${problems.join('\n  ')}`);
  }
  const v = parsed.data;
  const dataDir = resolve(v['data-dir'] ?? './data');
  const config = {
    host: v.host ?? '127.0.0.1',
    port: v.port ?? 8080,
    mqttHost: v['mqtt-host'] ?? v.host ?? '127.0.0.1',
    mqttPort: v['mqtt-port'] ?? 1883,
    mqttPublicUrl: v['mqtt-public-url'],
    dataDir,
    accessTtlMs: (v['access-ttl'] ?? 3600) * 1000,
    refreshTtlMs: (v['refresh-ttl'] ?? 30 * 24 * 3600) * 1000,
    secureCookies: v['secure-cookies'] ?? false,
    demo: v.demo ?? false,
    logLevel: v['log-level'] ?? 'info',
    logFormat: v['log-format'] ?? 'pretty',
    telemetryRetention: {
      rawMs: v['telemetry-raw-retention'] ?? 7 * 86_400_000,
      minuteMs: v['telemetry-1m-retention'] ?? 90 * 86_400_000,
      hourMs: v['telemetry-1h-retention'] ?? 730 * 86_400_000,
    },
    webDir: v['web-dir'] === undefined ? undefined : resolve(v['web-dir']),
    kvmDomain: v['kvm-domain'],
    adminPassword: env['EDGEHOOK_ADMIN_PASSWORD'] || undefined,
  };
  const database = v.database;
  return Object.freeze({ ...config, store: parseStoreLocation(database ?? join(dataDir, 'edgehook.db')) });
}
