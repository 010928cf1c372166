import { readdir, readFile, readlink } from 'node:fs/promises';

/** What /proc tells about one process group (the processes the agent started and their children). */
export interface GroupUsage {
  cpuTicks: number;
  rssMb: number;
  ports: number[];
}

const CLOCK_TICKS = 100; // USER_HZ: 100 on every Linux architecture the agent targets

interface StatFields {
  pid: number;
  pgrp: number;
  ticks: number;
}

/** Parses /proc/<pid>/stat; the command name may hold spaces and parentheses, so split after the last ')'. */
function parseStat(text: string): StatFields | undefined {
  const close = text.lastIndexOf(')');
  const pid = Number.parseInt(text, 10);
  if (close < 0 || !Number.isFinite(pid)) return undefined;
  const f = text.slice(close + 2).split(' ');
  // After the name: state(0) ppid(1) pgrp(2) ... utime(11) stime(12)
  return { pid, pgrp: Number(f[2]), ticks: Number(f[11]) + Number(f[12]) };
}

async function readText(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** Inodes of listening TCP sockets (IPv4 and IPv6) -> port. */
export async function listeningSockets(): Promise<Map<string, number>> {
  const byInode = new Map<string, number>();
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    const text = await readText(file);
    if (!text) continue;
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      // local_address(1) st(3) ... inode(9); 0A is TCP_LISTEN
      if (cols[3] !== '0A' || !cols[1] || !cols[9]) continue;
      const port = Number.parseInt(cols[1].split(':')[1] ?? '', 16);
      if (Number.isFinite(port)) byInode.set(cols[9], port);
    }
  }
  return byInode;
}

/** Pids in process group `pgid` (the leader included while it lives). */
export async function groupMembers(pgid: number): Promise<StatFields[]> {
  const out: StatFields[] = [];
  let entries: string[];
  try {
    entries = await readdir('/proc');
  } catch {
    return out;
  }
  for (const name of entries) {
    if (!/^\d+$/.test(name)) continue;
    const text = await readText(`/proc/${name}/stat`);
    const stat = text ? parseStat(text) : undefined;
    if (stat && stat.pgrp === pgid) out.push(stat);
  }
  return out;
}

async function rssKb(pid: number): Promise<number> {
  const text = await readText(`/proc/${pid}/status`);
  const m = text ? /^VmRSS:\s+(\d+)\s+kB/m.exec(text) : null;
  return m ? Number(m[1]) : 0;
}

async function socketInodes(pid: number): Promise<string[]> {
  let fds: string[];
  try {
    fds = await readdir(`/proc/${pid}/fd`);
  } catch {
    return [];
  }
  const inodes: string[] = [];
  for (const fd of fds) {
    const target = await readlink(`/proc/${pid}/fd/${fd}`).catch(() => '');
    const m = /^socket:\[(\d+)\]$/.exec(target);
    if (m?.[1]) inodes.push(m[1]);
  }
  return inodes;
}

export async function groupUsage(pgid: number, listening?: Map<string, number>): Promise<GroupUsage> {
  const members = await groupMembers(pgid);
  const sockets = listening ?? (await listeningSockets());
  let cpuTicks = 0;
  let rss = 0;
  const ports = new Set<number>();
  for (const m of members) {
    cpuTicks += m.ticks;
    rss += await rssKb(m.pid);
    for (const inode of await socketInodes(m.pid)) {
      const port = sockets.get(inode);
      if (port !== undefined) ports.add(port);
    }
  }
  return { cpuTicks, rssMb: Math.round((rss / 1024) * 10) / 10, ports: [...ports].sort((a, b) => a - b) };
}

export function ticksToMs(ticks: number): number {
  return (ticks * 1000) / CLOCK_TICKS;
}
