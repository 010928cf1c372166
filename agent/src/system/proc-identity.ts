import { readdir, readFile } from 'node:fs/promises';

/**
 * Process identity on Linux from /proc: a pid alone is reused, a pid with its start time (clock
 * ticks since boot, field 22 of /proc/<pid>/stat) is not. Elsewhere every answer is "unknown".
 */
export interface ProcStat {
  pid: number;
  pgrp: number;
  startTicks: number;
  /** R, S, D, Z (zombie: exited, not yet reaped) ... */
  state: string;
}

export function parseStat(text: string): ProcStat | undefined {
  // The command name (field 2) is in parentheses and may itself hold spaces or parentheses.
  const close = text.lastIndexOf(')');
  const open = text.indexOf('(');
  if (open < 0 || close < open) return undefined;
  const pid = Number(text.slice(0, open).trim());
  const rest = text.slice(close + 2).split(' ');
  // rest[0] is field 3 (state): pgrp is field 5, starttime field 22.
  const pgrp = Number(rest[2]);
  const startTicks = Number(rest[19]);
  if (!Number.isInteger(pid) || !Number.isInteger(pgrp) || !Number.isInteger(startTicks)) return undefined;
  return { pid, pgrp, startTicks, state: rest[0] ?? '?' };
}

export async function procStat(pid: number, root = '/proc'): Promise<ProcStat | undefined> {
  const text = await readFile(`${root}/${pid}/stat`, 'utf8').catch(() => undefined);
  return text === undefined ? undefined : parseStat(text);
}

/** True when `pid` runs and is the same process that had `startTicks` (not a reused pid). */
export async function isSameProcess(pid: number, startTicks: number, root = '/proc'): Promise<boolean> {
  const st = await procStat(pid, root);
  return st !== undefined && st.startTicks === startTicks && st.state !== 'Z';
}

/** Live members of process group `pgrp` started no earlier than `sinceTicks` (the leader may be gone). */
export async function groupMembers(pgrp: number, sinceTicks: number, root = '/proc'): Promise<ProcStat[]> {
  const names = await readdir(root).catch(() => [] as string[]);
  const out: ProcStat[] = [];
  for (const name of names) {
    if (!/^\d+$/.test(name)) continue;
    const st = await procStat(Number(name), root);
    if (st && st.pgrp === pgrp && st.startTicks >= sinceTicks && st.state !== 'Z') out.push(st);
  }
  return out;
}
