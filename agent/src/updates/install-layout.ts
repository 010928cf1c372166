// Node built-ins only: the launcher imports this before any agent code (docs/agent-updates.md).
import { mkdir, readdir, readFile, readlink, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';

/** The exit code that asks the supervisor (systemd's Restart=always, the test's) for a restart into `current`. */
export const RESTART_EXIT_CODE = 75;
/** A new version that exits this many times at start while on probation is rolled back. */
export const MAX_PROBATION_STARTS = 3;

/**
 * `<install>/update.json`. `probation`: `to` was switched in and has not reached the control plane
 * yet (by `deadline`, epoch ms); `confirmed`: it did; `rolled-back`: `from` was switched back in.
 */
export interface UpdateRecord {
  state: 'probation' | 'confirmed' | 'rolled-back';
  from: string;
  to: string;
  deadline: number;
  starts: number;
  at: number;
  reason?: string;
}

const STATES: readonly string[] = ['probation', 'confirmed', 'rolled-back'];
const VERSION_DIR = /^\d{1,6}\.\d{1,6}\.\d{1,6}(-[0-9A-Za-z][0-9A-Za-z.-]{0,40})?$/;

function isRecord(v: unknown): v is UpdateRecord {
  if (typeof v !== 'object' || v === null) return false;
  const r: Record<string, unknown> = { ...v };
  return (
    typeof r['state'] === 'string' && STATES.includes(r['state']) &&
    typeof r['from'] === 'string' && VERSION_DIR.test(r['from']) &&
    typeof r['to'] === 'string' && VERSION_DIR.test(r['to']) &&
    typeof r['deadline'] === 'number' && typeof r['starts'] === 'number' && typeof r['at'] === 'number' &&
    (r['reason'] === undefined || typeof r['reason'] === 'string')
  );
}

/**
 * The versioned install: `versions/<v>/` (one unpacked package each), `current` (a relative
 * symlink to the running one, switched by rename so it is never missing), `launcher.mjs`, and
 * `update.json`.
 */
export class InstallLayout {
  constructor(readonly dir: string) {}

  get versionsDir(): string {
    return join(this.dir, 'versions');
  }
  get stagingDir(): string {
    return join(this.dir, 'staging');
  }
  versionDir(version: string): string {
    return join(this.versionsDir, version);
  }
  private get recordFile(): string {
    return join(this.dir, 'update.json');
  }

  /** The version `current` points to (undefined when there is no link). */
  async currentVersion(): Promise<string | undefined> {
    const target = await readlink(join(this.dir, 'current')).catch(() => undefined);
    return target === undefined ? undefined : basename(target);
  }

  async versions(): Promise<string[]> {
    return (await readdir(this.versionsDir).catch(() => [] as string[])).filter((v) => VERSION_DIR.test(v));
  }

  /** An unreadable or damaged record counts as none: it never blocks a start. */
  async readRecord(): Promise<UpdateRecord | undefined> {
    try {
      const parsed: unknown = JSON.parse(await readFile(this.recordFile, 'utf8'));
      return isRecord(parsed) ? parsed : undefined;
    } catch {
      return undefined;
    }
  }

  async writeRecord(record: UpdateRecord): Promise<void> {
    const tmp = `${this.recordFile}.tmp`;
    await writeFile(tmp, JSON.stringify(record) + '\n', { mode: 0o644 });
    await rename(tmp, this.recordFile);
  }

  /** Points `current` at versions/<v> in one rename: a crash leaves the old or the new link, never none. */
  async switchTo(version: string): Promise<void> {
    const tmp = join(this.dir, `.current.${process.pid}`);
    await rm(tmp, { force: true });
    await symlink(join('versions', version), tmp);
    await rename(tmp, join(this.dir, 'current'));
  }

  /** Removes every version but `keep` (the running one and the one to roll back to). */
  async prune(keep: readonly string[]): Promise<void> {
    for (const v of await this.versions()) if (!keep.includes(v)) await rm(this.versionDir(v), { recursive: true, force: true });
  }

  async clearStaging(): Promise<void> {
    await rm(this.stagingDir, { recursive: true, force: true });
  }

  async makeStaging(): Promise<string> {
    await this.clearStaging();
    await mkdir(this.stagingDir, { recursive: true, mode: 0o700 });
    return this.stagingDir;
  }
}
