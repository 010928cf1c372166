import { execFile } from 'node:child_process';
import { access, readdir, readFile, statfs } from 'node:fs/promises';
import { constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import type { Sample } from '@edgehook/shared';
import { cpuUsage, parseLoadavg, parseMeminfo, parseMounts, parseNetDev, parseProcStat, parseThrottled, parseUptime, parseWgDump, type CpuTimes, type NetCounters } from './proc-parsers.js';

/** One source of samples. `collect` returns [] when its source is absent: nothing is made up. */
export interface Collector {
  readonly name: string;
  collect(now: number): Promise<Sample[]>;
}

export interface CollectorEnv {
  /** Root for /proc and /sys (tests may point it elsewhere); '/' on a device. */
  root: string;
  thermalZones: Array<{ name: string; path: string; scale: number }>;
  /** Reads the profile's I2C sensors (hardware/i2c), when the board has any. */
  readSensors?: () => Promise<Array<{ name: string; metric: string; value: number | null }>>;
  vcgencmd: boolean;
  /** The tunnel the agent's VPN capability manages (a simulated one has no /sys entry). */
  managedVpn?: () => Promise<VpnInterface | undefined>;
}

const p = (env: CollectorEnv, path: string): string => join(env.root, path);

async function readText(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** Where `name` is on PATH, if anywhere (checked once per collector). */
export async function findBinary(name: string, pathEnv = process.env['PATH'] ?? '/usr/bin:/bin'): Promise<string | undefined> {
  for (const dir of pathEnv.split(delimiter).concat(['/usr/sbin', '/sbin', '/opt/vc/bin'])) {
    const candidate = join(dir, name);
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

function run(file: string, args: string[]): Promise<string | undefined> {
  return new Promise((resolve) => {
    execFile(file, args, { timeout: 3000, maxBuffer: 256 * 1024 }, (err, stdout) => resolve(err ? undefined : stdout));
  });
}

const round = (v: number, digits = 3): number => Math.round(v * 10 ** digits) / 10 ** digits;

/** Total and per-core usage in percent, from the difference between two /proc/stat readings. */
export function cpuCollector(env: CollectorEnv): Collector & { lastPerCore(): number[] } {
  let prev = new Map<string, CpuTimes>();
  let perCore: number[] = [];
  return {
    name: 'cpu',
    lastPerCore: () => perCore,
    async collect() {
      const text = await readText(p(env, 'proc/stat'));
      if (!text) return [];
      const cur = parseProcStat(text);
      const out: Sample[] = [];
      const cores: number[] = [];
      for (const c of cur) {
        const before = prev.get(c.name);
        const usage = before ? cpuUsage(before, c) : undefined;
        if (usage === undefined) continue;
        if (c.name === 'cpu') out.push({ m: 'cpu.usage', v: round(usage * 100, 2) });
        else {
          cores.push(usage);
          out.push({ m: 'cpu.core.usage', v: round(usage * 100, 2), l: { core: c.name.slice(3) } });
        }
      }
      if (cores.length > 0) perCore = cores;
      prev = new Map(cur.map((c) => [c.name, c]));
      return out;
    },
  };
}

export function memoryCollector(env: CollectorEnv): Collector {
  return {
    name: 'memory',
    async collect() {
      const m = parseMeminfo((await readText(p(env, 'proc/meminfo'))) ?? '');
      if (!m) return [];
      return [
        { m: 'mem.used', v: m.used },
        { m: 'mem.buff_cache', v: m.buffCache },
        { m: 'mem.free', v: m.free },
        { m: 'mem.available', v: m.available },
        { m: 'mem.total', v: m.total },
        { m: 'mem.usage', v: round(((m.total - m.available) / m.total) * 100, 2) },
      ];
    },
  };
}

export function diskCollector(env: CollectorEnv): Collector {
  return {
    name: 'disk',
    async collect() {
      const mounts = parseMounts((await readText(p(env, 'proc/mounts'))) ?? '');
      const out: Sample[] = [];
      for (const mnt of mounts.slice(0, 32)) {
        try {
          const s = await statfs(mnt.mountpoint);
          const total = s.blocks * s.bsize;
          if (total === 0) continue;
          const free = s.bavail * s.bsize;
          const used = (s.blocks - s.bfree) * s.bsize;
          const l = { mount: mnt.mountpoint.slice(0, 128), device: mnt.device.slice(0, 128) };
          out.push({ m: 'disk.used', v: used, l }, { m: 'disk.free', v: free, l }, { m: 'disk.usage', v: round((used / (used + free)) * 100, 2), l });
        } catch {
          // Unreadable mount (permissions, stale network mount): skipped.
        }
      }
      return out;
    },
  };
}

/** Counters and rates per interface (loopback skipped). */
export function networkCollector(env: CollectorEnv): Collector {
  let prev: { at: number; counters: Map<string, NetCounters> } | undefined;
  return {
    name: 'network',
    async collect(now) {
      const text = await readText(p(env, 'proc/net/dev'));
      if (!text) return [];
      const cur = parseNetDev(text).filter((c) => c.iface !== 'lo').slice(0, 32);
      const out: Sample[] = [];
      for (const c of cur) {
        const l = { iface: c.iface.slice(0, 64) };
        out.push({ m: 'net.rx_bytes', v: c.rxBytes, l }, { m: 'net.tx_bytes', v: c.txBytes, l });
        const before = prev?.counters.get(c.iface);
        const secs = prev ? (now - prev.at) / 1000 : 0;
        if (before && secs > 0 && c.rxBytes >= before.rxBytes && c.txBytes >= before.txBytes) {
          out.push({ m: 'net.rx_bps', v: round((c.rxBytes - before.rxBytes) / secs, 1), l }, { m: 'net.tx_bps', v: round((c.txBytes - before.txBytes) / secs, 1), l });
        }
      }
      prev = { at: now, counters: new Map(cur.map((c) => [c.iface, c])) };
      return out;
    },
  };
}

export function systemCollector(env: CollectorEnv): Collector {
  return {
    name: 'system',
    async collect() {
      const out: Sample[] = [];
      const load = parseLoadavg((await readText(p(env, 'proc/loadavg'))) ?? '');
      if (load) out.push({ m: 'load.1', v: load[0] }, { m: 'load.5', v: load[1] }, { m: 'load.15', v: load[2] });
      const up = parseUptime((await readText(p(env, 'proc/uptime'))) ?? '');
      if (up !== undefined) out.push({ m: 'uptime.seconds', v: up });
      return out;
    },
  };
}

/** Thermal zones in /sys plus the profile's zones and I2C sensors; `temp.max` is the hottest. */
export function thermalCollector(env: CollectorEnv): Collector {
  return {
    name: 'thermal',
    async collect() {
      const zones = new Map<string, { name: string; path: string; scale: number }>();
      for (const z of env.thermalZones) if (z.path.startsWith('/')) zones.set(join(env.root, z.path), z);
      const base = p(env, 'sys/class/thermal');
      for (const entry of (await readdir(base).catch(() => [] as string[])).filter((e) => e.startsWith('thermal_zone')).slice(0, 16)) {
        const path = join(base, entry, 'temp');
        if (zones.has(path)) continue;
        const type = ((await readText(join(base, entry, 'type'))) ?? entry).trim();
        zones.set(path, { name: type || entry, path, scale: 0.001 });
      }
      const out: Sample[] = [];
      let max: number | undefined;
      for (const [path, z] of zones) {
        const text = ((await readText(path)) ?? '').trim();
        const raw = Number(text);
        if (text === '' || !Number.isFinite(raw)) continue;
        const c = round(raw * z.scale, 2);
        out.push({ m: 'temp.zone', v: c, l: { zone: z.name.slice(0, 64) } });
        max = max === undefined ? c : Math.max(max, c);
      }
      for (const s of (await env.readSensors?.().catch(() => [])) ?? []) {
        if (s.value === null) continue;
        out.push({ m: s.metric, v: s.value, l: { sensor: s.name } });
        if (s.metric.startsWith('temp.')) max = max === undefined ? s.value : Math.max(max, s.value);
      }
      if (max !== undefined) out.push({ m: 'temp.max', v: max });
      return out;
    },
  };
}

/** Raspberry Pi firmware flags (`vcgencmd get_throttled`), only where the binary exists. */
export function throttlingCollector(env: CollectorEnv): Collector {
  let binary: Promise<string | undefined> | undefined;
  return {
    name: 'throttling',
    async collect() {
      if (!env.vcgencmd) return [];
      binary ??= findBinary('vcgencmd');
      const bin = await binary;
      if (!bin) return [];
      const flags = parseThrottled((await run(bin, ['get_throttled'])) ?? '');
      if (flags === undefined) return [];
      const bit = (n: number): number => ((flags >> n) & 1 ? 1 : 0);
      return [
        { m: 'rpi.throttled_flags', v: flags },
        { m: 'rpi.under_voltage', v: bit(0) },
        { m: 'rpi.freq_capped', v: bit(1) },
        { m: 'rpi.throttled', v: bit(2) },
        { m: 'rpi.soft_temp_limit', v: bit(3) },
        { m: 'rpi.under_voltage_occurred', v: bit(16) },
        { m: 'rpi.throttled_occurred', v: bit(18) },
      ];
    },
  };
}

export interface VpnInterface {
  ifname: string;
  up: boolean;
  endpoint: string | null;
  lastHandshake: number | null;
  /** The interface's IPv4 address, when known without asking the OS (the managed tunnel). */
  address?: string;
}

/** WireGuard interfaces from /sys (DEVTYPE=wireguard), handshakes from `wg show all dump` when allowed. */
export async function readWireguard(env: CollectorEnv, wgBinary: string | undefined): Promise<VpnInterface[]> {
  const base = p(env, 'sys/class/net');
  const found = new Map<string, VpnInterface>();
  for (const iface of await readdir(base).catch(() => [] as string[])) {
    const uevent = (await readText(join(base, iface, 'uevent'))) ?? '';
    if (!/^DEVTYPE=wireguard$/m.test(uevent)) continue;
    const state = ((await readText(join(base, iface, 'operstate'))) ?? '').trim();
    found.set(iface, { ifname: iface, up: state === 'up' || state === 'unknown', endpoint: null, lastHandshake: null });
  }
  if (wgBinary && found.size > 0) {
    const dump = parseWgDump((await run(wgBinary, ['show', 'all', 'dump'])) ?? '');
    for (const peer of dump.peers) {
      const i = found.get(peer.iface);
      if (!i) continue;
      i.endpoint ??= peer.endpoint;
      if (peer.latestHandshake > 0) i.lastHandshake = Math.max(i.lastHandshake ?? 0, peer.latestHandshake);
    }
  }
  // The agent's own tunnel first (Quix's vpn_status reports the first interface).
  const managed = await env.managedVpn?.().catch(() => undefined);
  if (managed) {
    const seen = found.get(managed.ifname);
    found.delete(managed.ifname);
    return [{ ...managed, lastHandshake: seen?.lastHandshake ?? managed.lastHandshake, endpoint: seen?.endpoint ?? managed.endpoint }, ...found.values()];
  }
  return [...found.values()];
}

export function wireguardCollector(env: CollectorEnv): Collector {
  let binary: Promise<string | undefined> | undefined;
  return {
    name: 'wireguard',
    async collect(now) {
      binary ??= findBinary('wg');
      const out: Sample[] = [];
      for (const i of await readWireguard(env, await binary)) {
        const l = { ifname: i.ifname };
        out.push({ m: 'vpn.up', v: i.up ? 1 : 0, l });
        if (i.lastHandshake !== null) out.push({ m: 'vpn.handshake_age', v: Math.max(0, Math.round(now / 1000 - i.lastHandshake)), l });
      }
      return out;
    },
  };
}

export const COLLECTOR_NAMES = ['cpu', 'memory', 'disk', 'network', 'system', 'thermal', 'throttling', 'wireguard'] as const;
export type CollectorName = (typeof COLLECTOR_NAMES)[number];

export function allCollectors(env: CollectorEnv): Record<CollectorName, Collector> {
  return {
    cpu: cpuCollector(env),
    memory: memoryCollector(env),
    disk: diskCollector(env),
    network: networkCollector(env),
    system: systemCollector(env),
    thermal: thermalCollector(env),
    throttling: throttlingCollector(env),
    wireguard: wireguardCollector(env),
  };
}
