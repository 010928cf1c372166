/** Pure parsers for the /proc files the collectors read (tested on this machine's real files). */

export interface CpuTimes {
  /** 'cpu' for the total line, 'cpu0'... per core. */
  name: string;
  idle: number;
  total: number;
}

/** `/proc/stat` cpu lines: idle = idle + iowait; total = every field except guest (already in user). */
export function parseProcStat(text: string): CpuTimes[] {
  const out: CpuTimes[] = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith('cpu')) continue;
    const parts = line.trim().split(/\s+/);
    const name = parts[0] ?? '';
    const f = parts.slice(1, 9).map(Number);
    if (f.length < 4 || f.some((n) => !Number.isFinite(n))) continue;
    const idle = (f[3] ?? 0) + (f[4] ?? 0);
    out.push({ name, idle, total: f.reduce((a, b) => a + b, 0) });
  }
  return out;
}

/** Usage 0..1 between two readings of the same cpu line. */
export function cpuUsage(prev: CpuTimes, cur: CpuTimes): number | undefined {
  const total = cur.total - prev.total;
  if (total <= 0) return undefined;
  return Math.min(1, Math.max(0, 1 - (cur.idle - prev.idle) / total));
}

export interface MemInfo {
  total: number;
  free: number;
  available: number;
  buffCache: number;
  used: number;
}

/** `/proc/meminfo` in bytes; used = total - free - buffers - cached - reclaimable slab (as `free`). */
export function parseMeminfo(text: string): MemInfo | undefined {
  const kb = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = /^(\w+(?:\(\w+\))?):\s+(\d+)/.exec(line);
    if (m?.[1] && m[2]) kb.set(m[1], Number(m[2]) * 1024);
  }
  const total = kb.get('MemTotal');
  const free = kb.get('MemFree');
  if (total === undefined || free === undefined) return undefined;
  const buffCache = (kb.get('Buffers') ?? 0) + (kb.get('Cached') ?? 0) + (kb.get('SReclaimable') ?? 0);
  return { total, free, available: kb.get('MemAvailable') ?? free + buffCache, buffCache, used: Math.max(0, total - free - buffCache) };
}

export interface NetCounters {
  iface: string;
  rxBytes: number;
  txBytes: number;
}

/** `/proc/net/dev`: receive bytes is the first field after the colon, transmit bytes the ninth. */
export function parseNetDev(text: string): NetCounters[] {
  const out: NetCounters[] = [];
  for (const line of text.split('\n').slice(2)) {
    const i = line.indexOf(':');
    if (i < 0) continue;
    const iface = line.slice(0, i).trim();
    const f = line.slice(i + 1).trim().split(/\s+/).map(Number);
    if (!iface || f.length < 9) continue;
    out.push({ iface, rxBytes: f[0] ?? 0, txBytes: f[8] ?? 0 });
  }
  return out;
}

export function parseLoadavg(text: string): [number, number, number] | undefined {
  const f = text.trim().split(/\s+/).slice(0, 3).map(Number);
  if (f.length < 3 || f.some((n) => !Number.isFinite(n))) return undefined;
  return [f[0] ?? 0, f[1] ?? 0, f[2] ?? 0];
}

export function parseUptime(text: string): number | undefined {
  const first = text.trim().split(/\s+/)[0];
  const v = first ? Number(first) : NaN;
  return Number.isFinite(v) ? v : undefined;
}

export interface Mount {
  device: string;
  mountpoint: string;
  fstype: string;
}

/** File systems that hold data; pseudo and memory file systems are skipped. */
const DATA_FS = new Set(['ext2', 'ext3', 'ext4', 'xfs', 'btrfs', 'vfat', 'exfat', 'f2fs', 'ntfs', 'ntfs3', 'zfs', 'jfs', 'reiserfs', 'overlay', 'fuseblk', 'nfs', 'nfs4', 'cifs', 'virtiofs', '9p']);

/** `/proc/mounts` (octal escapes decoded), data file systems only, one entry per device. */
export function parseMounts(text: string): Mount[] {
  const seen = new Set<string>();
  const out: Mount[] = [];
  const unescape = (s: string): string => s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
  for (const line of text.split('\n')) {
    const [device, mountpoint, fstype] = line.split(' ');
    if (!device || !mountpoint || !fstype || !DATA_FS.has(fstype)) continue;
    const key = fstype === 'overlay' ? mountpoint : device;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ device: unescape(device), mountpoint: unescape(mountpoint), fstype });
  }
  return out;
}

export interface WgPeer {
  iface: string;
  endpoint: string | null;
  latestHandshake: number;
  rxBytes: number;
  txBytes: number;
}

/** `wg show all dump`: interface lines have 5 fields after the name, peer lines 8. */
export function parseWgDump(text: string): { interfaces: string[]; peers: WgPeer[] } {
  const interfaces: string[] = [];
  const peers: WgPeer[] = [];
  for (const line of text.split('\n')) {
    const f = line.split('\t');
    if (f.length === 5 && f[0]) interfaces.push(f[0]);
    else if (f.length === 9 && f[0]) {
      peers.push({ iface: f[0], endpoint: f[3] && f[3] !== '(none)' ? f[3] : null, latestHandshake: Number(f[5]) || 0, rxBytes: Number(f[6]) || 0, txBytes: Number(f[7]) || 0 });
    }
  }
  return { interfaces, peers };
}

/** `throttled=0x50005` from `vcgencmd get_throttled`. */
export function parseThrottled(text: string): number | undefined {
  const m = /throttled=0x([0-9a-fA-F]+)/.exec(text);
  return m?.[1] ? parseInt(m[1], 16) : undefined;
}
