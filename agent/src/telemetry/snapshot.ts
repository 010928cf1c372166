import { networkInterfaces } from 'node:os';
import { readFile, statfs } from 'node:fs/promises';
import { join } from 'node:path';
import type { StatType, TelemetrySnapshot } from '@edgehook/shared';
import { findBinary, readWireguard, type CollectorEnv } from './collectors.js';
import { cpuUsage, parseMeminfo, parseMounts, parseProcStat } from './proc-parsers.js';

const MB = 1024 * 1024;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function perCoreUsage(env: CollectorEnv): Promise<number[]> {
  const read = async () => parseProcStat(await readFile(join(env.root, 'proc/stat'), 'utf8')).filter((c) => c.name !== 'cpu');
  const a = await read();
  await sleep(200);
  const b = await read();
  return b.map((cur, i) => {
    const prev = a[i];
    return Math.round((prev ? (cpuUsage(prev, cur) ?? 0) : 0) * 100) / 100;
  });
}

/** The Quix `telemetry` answer for the requested stat types, read now. */
export async function telemetrySnapshot(env: CollectorEnv, statTypes: StatType[]): Promise<TelemetrySnapshot> {
  const tele: TelemetrySnapshot['tele_data'] = {};
  const want = new Set(statTypes);
  if (want.has('ttl_cpu_usage')) tele.ttl_cpu_usage = await perCoreUsage(env).catch(() => []);
  if (want.has('ttl_mem_usage')) {
    const m = parseMeminfo(await readFile(join(env.root, 'proc/meminfo'), 'utf8').catch(() => ''));
    if (m) tele.ttl_mem_usage = [Math.round(m.used / MB), Math.round(m.buffCache / MB), Math.round(m.free / MB)];
  }
  if (want.has('disk_util')) {
    const disks: Record<string, [number, number]> = {};
    for (const mnt of parseMounts(await readFile(join(env.root, 'proc/mounts'), 'utf8').catch(() => ''))) {
      if (disks[mnt.device]) continue;
      const s = await statfs(mnt.mountpoint).catch(() => undefined);
      if (s && s.blocks > 0) disks[mnt.device] = [(s.blocks - s.bfree) * s.bsize, s.bavail * s.bsize];
    }
    tele.disk_util = disks;
  }
  if (want.has('vpn_status')) {
    const [first] = await readWireguard(env, await findBinary('wg'));
    if (!first) tele.vpn_status = null;
    else {
      const addrs = networkInterfaces()[first.ifname] ?? [];
      const host = first.endpoint ? first.endpoint.replace(/:\d+$/, '').replace(/^\[|\]$/g, '') : null;
      tele.vpn_status = {
        ifname: first.ifname,
        conn_type: 'wireguard',
        conn_host: host,
        conn_ip4: addrs.find((a) => a.family === 'IPv4')?.address ?? first.address ?? null,
        conn_ip6: addrs.find((a) => a.family === 'IPv6')?.address ?? null,
        last_handshake_s: first.lastHandshake === null ? null : Math.max(0, Math.round(Date.now() / 1000 - first.lastHandshake)),
        up: first.up,
      };
    }
  }
  return { tele_data: tele };
}
