import { readLocalText } from '../local-input.js';
import { parse as parseYaml } from 'yaml';
import { DeclaredServer, validate, type DeclaredServer as Server } from '@edgehook/shared';
import { UsageError } from '../errors.js';

/** The flags that shape a server spec (create and edit share them). */
export const SPEC_OPTIONS = {
  file: { type: 'string', short: 'f' },
  image: { type: 'string' },
  env: { type: 'string', multiple: true },
  'unset-env': { type: 'string', multiple: true },
  port: { type: 'string', multiple: true },
  volume: { type: 'string', multiple: true },
  label: { type: 'string', multiple: true },
  restart: { type: 'string' },
  memory: { type: 'string' },
  cpus: { type: 'string' },
  workdir: { type: 'string' },
  'data-mount': { type: 'string' },
  'stop-timeout': { type: 'string' },
  tty: { type: 'boolean' },
  stopped: { type: 'boolean' },
  running: { type: 'boolean' },
} as const;

export type SpecFlags = {
  file?: string | undefined;
  image?: string | undefined;
  env?: string[] | undefined;
  'unset-env'?: string[] | undefined;
  port?: string[] | undefined;
  volume?: string[] | undefined;
  label?: string[] | undefined;
  restart?: string | undefined;
  memory?: string | undefined;
  cpus?: string | undefined;
  workdir?: string | undefined;
  'data-mount'?: string | undefined;
  'stop-timeout'?: string | undefined;
  tty?: boolean | undefined;
  stopped?: boolean | undefined;
  running?: boolean | undefined;
};

const SIZE_UNITS: Record<string, number> = { '': 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };

function pairs(flag: string, list: string[] | undefined, usage: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of list ?? []) {
    const eq = item.indexOf('=');
    if (eq < 1) throw new UsageError(`--${flag} takes KEY=VALUE, got ${JSON.stringify(item)}`, usage);
    out[item.slice(0, eq)] = item.slice(eq + 1);
  }
  return out;
}

/** `8080:80`, `8080:80/udp`, `127.0.0.1:8080:80`. */
function port(value: string, usage: string): Record<string, unknown> {
  const m = /^(?:([0-9.]+|\[[0-9a-f:]+\]):)?(\d{1,5}):(\d{1,5})(?:\/(tcp|udp))?$/i.exec(value);
  if (!m) throw new UsageError(`--port takes HOST:CONTAINER[/tcp|udp] (optionally IP:HOST:CONTAINER), got ${JSON.stringify(value)}`, usage);
  return { host: Number(m[2]), container: Number(m[3]), protocol: (m[4] ?? 'tcp').toLowerCase(), ...(m[1] ? { hostIp: m[1].replace(/^\[|\]$/g, '') } : {}) };
}

/** `data:/srv/data`, `/host/path:/in/container:ro`. */
function volume(value: string, usage: string): Record<string, unknown> {
  const parts = value.split(':');
  const ro = parts.length === 3 && parts[2] === 'ro';
  if (parts.length < 2 || parts.length > 3 || (parts.length === 3 && !ro && parts[2] !== 'rw')) throw new UsageError(`--volume takes SOURCE:TARGET[:ro], got ${JSON.stringify(value)}`, usage);
  return { source: parts[0], target: parts[1], readOnly: ro };
}

function number(flag: string, value: string, usage: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n)) throw new UsageError(`--${flag} must be a number, got ${JSON.stringify(value)}`, usage);
  return n;
}

/** A spec file: YAML or JSON (YAML reads both), `-` for stdin. */
export async function readSpecFile(path: string, stdin: NodeJS.ReadableStream, usage: string): Promise<Record<string, unknown>> {
  const text = await readLocalText(path, stdin, usage);
  let raw: unknown;
  try {
    raw = parseYaml(text, { maxAliasCount: 100 });
  } catch (err) {
    throw new UsageError(`${path} is not valid YAML or JSON: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`, usage);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new UsageError(`${path} must hold one server (a mapping with image, env, ports ...)`, usage);
  return { ...raw };
}

/** Flags over a base spec (the current one for edit, the file's or {} for create); validated once. */
export function buildSpec(base: Record<string, unknown>, name: string, cmd: string[], flags: SpecFlags, usage: string): Server {
  const spec: Record<string, unknown> = { ...base, name };
  if (flags.image !== undefined) spec['image'] = flags.image;
  if (cmd.length > 0) spec['cmd'] = cmd;
  const env = base['env'];
  const baseEnv: Record<string, unknown> = typeof env === 'object' && env !== null ? Object.fromEntries(Object.entries(env)) : {};
  for (const k of flags['unset-env'] ?? []) delete baseEnv[k];
  if (flags.env || flags['unset-env']) spec['env'] = { ...baseEnv, ...pairs('env', flags.env, usage) };
  if (flags.label) spec['labels'] = pairs('label', flags.label, usage);
  if (flags.port) spec['ports'] = flags.port.map((p) => port(p, usage));
  if (flags.volume) spec['volumes'] = flags.volume.map((v) => volume(v, usage));
  if (flags.restart !== undefined) spec['restartPolicy'] = flags.restart;
  if (flags.memory !== undefined) {
    const m = /^(\d+(?:\.\d+)?)\s*([bkmg]?)$/i.exec(flags.memory.trim());
    if (!m) throw new UsageError(`--memory takes a size like 256m or 1g, got ${JSON.stringify(flags.memory)}`, usage);
    spec['memoryBytes'] = Math.round(Number(m[1]) * (SIZE_UNITS[(m[2] ?? '').toLowerCase()] ?? 1));
  }
  if (flags.cpus !== undefined) spec['cpus'] = number('cpus', flags.cpus, usage);
  if (flags.workdir !== undefined) spec['workingDir'] = flags.workdir;
  if (flags['data-mount'] !== undefined) spec['dataMount'] = flags['data-mount'] === 'none' ? null : flags['data-mount'];
  if (flags['stop-timeout'] !== undefined) spec['stopTimeoutSec'] = number('stop-timeout', flags['stop-timeout'], usage);
  if (flags.tty) spec['tty'] = true;
  if (flags.stopped && flags.running) throw new UsageError('--stopped and --running contradict each other', usage);
  if (flags.stopped) spec['desired'] = 'stopped';
  if (flags.running) spec['desired'] = 'running';
  const checked = validate(DeclaredServer, spec);
  if (!checked.ok) throw new UsageError(`invalid server spec: ${checked.error}`, usage);
  return checked.value;
}
