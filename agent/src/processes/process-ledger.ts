import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as z from '@edgehook/shared/zod';
import { decodeJson, type Logger } from '@edgehook/shared';
import { groupMembers, procStat } from '../system/proc-identity.js';

const Entry = z.object({ pid: z.number().check(z.int(), z.positive()), startTicks: z.number().check(z.int(), z.nonnegative()), title: z.string().check(z.maxLength(256)) });
const Ledger = z.array(Entry).check(z.maxLength(10_000));
type Entry = z.infer<typeof Entry>;

export interface Stray {
  pid: number;
  title: string;
  /** Live processes of its group (the leader may be gone, its children not). */
  members: number[];
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * The processes this agent started (each the leader of its own group), on disk with their start
 * times, so an agent restarted after a kill -9 finds the ones its previous run left behind: they
 * lost their operator's stream and nobody could stop them. Linux (/proc) only.
 */
export class ProcessLedger {
  private entries: Entry[] = [];
  private chain: Promise<void> = Promise.resolve();

  constructor(private readonly stateDir: string, private readonly log: Logger) {}

  private get path(): string {
    return join(this.stateDir, 'processes.json');
  }

  /**
   * Reads what the previous run left: every group still alive is reported and stopped (SIGTERM,
   * then SIGKILL after `graceMs`). Returns the strays found.
   */
  async recover(graceMs = 3000): Promise<Stray[]> {
    await mkdir(this.stateDir, { recursive: true, mode: 0o700 });
    const text = await readFile(this.path, 'utf8').catch(() => undefined);
    const decoded = text === undefined ? undefined : decodeJson(Ledger, text);
    if (text !== undefined && !decoded?.ok) this.log.warn('process ledger unreadable; strays of the previous run cannot be found', { path: this.path });
    const strays: Stray[] = [];
    for (const e of decoded?.ok ? decoded.value : []) {
      const members = await groupMembers(e.pid, e.startTicks);
      if (members.length > 0) strays.push({ pid: e.pid, title: e.title, members: members.map((m) => m.pid) });
    }
    for (const s of strays) {
      this.log.warn('stray process from the previous agent run (its stream is gone): stopping it', { pid: s.pid, title: s.title, members: s.members });
      try {
        process.kill(-s.pid, 'SIGTERM');
      } catch {
        // gone meanwhile
      }
    }
    const deadline = Date.now() + graceMs;
    for (const s of strays) {
      const e = decoded?.ok ? decoded.value.find((x) => x.pid === s.pid) : undefined;
      while (e && (await groupMembers(s.pid, e.startTicks)).length > 0 && Date.now() < deadline) await sleep(50);
      if (e && (await groupMembers(s.pid, e.startTicks)).length > 0) {
        try {
          process.kill(-s.pid, 'SIGKILL');
        } catch {
          // gone meanwhile
        }
      }
    }
    this.entries = [];
    await this.save();
    return strays;
  }

  /** A process group this agent just started. */
  add(pid: number, title: string): void {
    this.chain = this.chain.then(async () => {
      const st = await procStat(pid);
      if (!st) return; // already gone, or no /proc
      this.entries.push({ pid, startTicks: st.startTicks, title: title.slice(0, 256) });
      await this.save();
    });
  }

  remove(pid: number): void {
    this.chain = this.chain.then(async () => {
      const before = this.entries.length;
      this.entries = this.entries.filter((e) => e.pid !== pid);
      if (this.entries.length !== before) await this.save();
    });
  }

  /** Waits for pending writes (tests, shutdown). */
  flush(): Promise<void> {
    return this.chain;
  }

  private async save(): Promise<void> {
    try {
      await writeFile(this.path + '.tmp', JSON.stringify(this.entries), { mode: 0o600 });
      await rename(this.path + '.tmp', this.path);
    } catch (err) {
      this.log.warn('process ledger not saved', { err });
    }
  }
}
