import { Worker } from 'node:worker_threads';

/**
 * Moves SQLite WAL checkpoints off the main thread. With heavy ingest the WAL grows by tens of MB
 * a second; an automatic checkpoint runs inside whichever commit crosses the threshold and
 * blocks the event loop (copy + fsync) for seconds. A worker thread with its own connection
 * checkpoints every `everyMs` instead, so the ingest connection can turn its own off.
 */
export function startCheckpointer(path: string, everyMs = 1000): { stop(): Promise<void> } {
  const source = `
    const { parentPort, workerData } = require('node:worker_threads');
    const Database = require(workerData.module);
    const db = new Database(workerData.path);
    db.pragma('busy_timeout = 5000');
    const timer = setInterval(() => {
      try { db.pragma('wal_checkpoint(PASSIVE)'); } catch {}
    }, workerData.everyMs);
    parentPort.on('message', () => { clearInterval(timer); try { db.pragma('wal_checkpoint(PASSIVE)'); } catch {} db.close(); process.exit(0); });
  `;
  const module = import.meta.resolve('better-sqlite3').replace(/^file:\/\//, '');
  const worker = new Worker(source, { eval: true, workerData: { path, everyMs, module: decodeURIComponent(module) } });
  worker.unref();
  worker.on('error', () => undefined);
  let exited = false;
  worker.once('exit', () => {
    exited = true;
  });
  return {
    stop: () =>
      new Promise<void>((resolve) => {
        if (exited) return resolve();
        // Unref'd while running (it must not keep a process alive); held while we wait for it.
        worker.ref();
        worker.once('exit', () => resolve());
        worker.postMessage('stop');
        setTimeout(() => void worker.terminate().then(() => resolve()), 5000).unref();
      }),
  };
}
