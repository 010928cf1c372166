import { chmodSync, existsSync, mkdirSync, statSync, watch, type FSWatcher } from 'node:fs';
import { dirname } from 'node:path';
import type { Logger } from '@edgehook/shared';

/**
 * Private by default: the data directory is 0700 and the SQLite file (and its -wal/-shm, which
 * SQLite creates with the database file's mode) 0600. Existing installs are tightened at start.
 */
export function securePaths(dataDir: string, sqlitePath: string | undefined): void {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  chmodSync(dataDir, 0o700);
  if (sqlitePath === undefined || sqlitePath === ':memory:') return;
  const dir = dirname(sqlitePath);
  if (!existsSync(dir)) mkdirSync(dir, { recursive: true, mode: 0o700 });
  for (const suffix of ['', '-wal', '-shm']) {
    if (existsSync(sqlitePath + suffix)) chmodSync(sqlitePath + suffix, 0o600);
  }
}

export interface StoreWatch {
  stop(): void;
}

/**
 * Notices the SQLite file or its directory vanishing (or being replaced) while we run: SQLite would
 * go on writing to an unlinked inode and lose everything at the next start. fs.watch reports it at
 * once; a slow stat check covers filesystems where watching is unreliable.
 */
export function watchSqliteStore(path: string, log: Logger, onLost: (reason: string) => void, everyMs = 5000): StoreWatch {
  const identity = (): string | undefined => {
    try {
      const s = statSync(path);
      return `${s.dev}:${s.ino}`;
    } catch {
      return undefined;
    }
  };
  const original = identity();
  let lost = false;
  let watcher: FSWatcher | undefined;
  const check = (): void => {
    if (lost) return;
    const now = identity();
    if (now === original) return;
    lost = true;
    const reason = now === undefined ? `the database file ${path} was deleted (or its data directory was)` : `the database file ${path} was replaced by another file`;
    log.error(`STORE LOST: ${reason}; the control plane stops rather than write into a deleted file`, { path });
    stop();
    onLost(reason);
  };
  const timer = setInterval(check, everyMs);
  timer.unref();
  try {
    watcher = watch(dirname(path), { persistent: false }, () => check());
    watcher.on('error', () => check());
  } catch {
    // No watching here: the timer still checks.
  }
  const stop = (): void => {
    clearInterval(timer);
    watcher?.close();
  };
  return { stop };
}
