import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as z from '@edgehook/shared/zod';
import { decodeJson, type Logger } from '@edgehook/shared';
import { isSameProcess, procStat } from './proc-identity.js';

const LockFile = z.object({ pid: z.number().check(z.int(), z.positive()), startTicks: z.number().check(z.int(), z.nonnegative()) });

export class StateLockedError extends Error {}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * One agent per state dir (one set of device credentials): `agent.pid` holds the owner's pid and
 * start time. A live owner makes a second agent refuse to start, unless `replace` is set (the
 * control plane restarting its demo device): then the old one is stopped first. A dead owner's
 * file (kill -9) is simply taken over.
 */
export async function acquireStateLock(stateDir: string, opts: { replace: boolean; log: Logger; graceMs?: number }): Promise<{ release(): Promise<void> }> {
  await mkdir(stateDir, { recursive: true, mode: 0o700 });
  const path = join(stateDir, 'agent.pid');
  const text = await readFile(path, 'utf8').catch(() => undefined);
  const held = text === undefined ? undefined : decodeJson(LockFile, text);
  if (held?.ok && held.value.pid !== process.pid && (await isSameProcess(held.value.pid, held.value.startTicks))) {
    const { pid, startTicks } = held.value;
    if (!opts.replace) throw new StateLockedError(`another agent (pid ${pid}) is running with the state dir ${stateDir}; stop it first (or pass --replace on)`);
    opts.log.warn('stopping the previous agent that holds this state dir', { pid });
    process.kill(pid, 'SIGTERM');
    const deadline = Date.now() + (opts.graceMs ?? 5000);
    while ((await isSameProcess(pid, startTicks)) && Date.now() < deadline) await sleep(50);
    if (await isSameProcess(pid, startTicks)) process.kill(pid, 'SIGKILL');
    while (await isSameProcess(pid, startTicks)) await sleep(20);
  }
  const me = await procStat(process.pid);
  // Without /proc there is no reliable identity: no lock (documented: Linux only).
  if (me) {
    await writeFile(path + '.tmp', JSON.stringify({ pid: process.pid, startTicks: me.startTicks }), { mode: 0o600 });
    await rename(path + '.tmp', path);
  }
  return {
    async release() {
      if (me) await rm(path, { force: true });
    },
  };
}
