import type { Kysely } from 'kysely';
import type { Logger } from '@edgehook/shared';
import type { Database } from '../db/database.js';
import { insertAuditBatch, type NewAuditEntry } from './audit.repository.js';

/** Rows per INSERT: 12 columns each, well under SQLite's and Postgres' bound parameter limits. */
const BATCH_ROWS = 200;

/**
 * Audit rows leave the request's path: `write` queues the row and the queue is written on the
 * next turn of the event loop (`setImmediate`: after the answer has gone to the socket), every
 * row queued by then in one INSERT. The row is recorded within that turn, not after the answer
 * has been waited for: the window in which a row is only in memory is that turn (well under a
 * millisecond at idle, one INSERT's time under load). A clean shutdown writes the queue
 * (`flush` before the store closes); a reader on this replica flushes first, so it sees its own
 * actions. What a kill -9 or a crash inside that window loses is what SQLite's
 * `synchronous=NORMAL` (WAL) already risks on a power cut for its last commits.
 */
export class AuditWriter {
  private queue: Array<{ entry: NewAuditEntry; at: number }> = [];
  private scheduled: NodeJS.Immediate | undefined;
  /** The write in progress: flushes run one after another, so rows keep their order. */
  private writing: Promise<void> = Promise.resolve();

  constructor(private readonly deps: { db: Kysely<Database>; log: Logger }) {}

  /** Queues one row, stamped now (`at`): written on the next turn of the event loop. */
  write(entry: NewAuditEntry, at: number): void {
    this.queue.push({ entry, at });
    this.scheduled ??= setImmediate(() => void this.flush());
  }

  /** Rows queued and not yet written. */
  get pending(): number {
    return this.queue.length;
  }

  /** Writes everything queued so far; resolves when it is in the store (or has been logged as lost). */
  flush(): Promise<void> {
    if (this.scheduled) clearImmediate(this.scheduled);
    this.scheduled = undefined;
    const rows = this.queue;
    this.queue = [];
    if (rows.length > 0) this.writing = this.writing.then(() => this.insert(rows));
    return this.writing;
  }

  private async insert(rows: Array<{ entry: NewAuditEntry; at: number }>): Promise<void> {
    for (let i = 0; i < rows.length; i += BATCH_ROWS) {
      const batch = rows.slice(i, i + BATCH_ROWS);
      try {
        await insertAuditBatch(this.deps.db, batch);
      } catch (err) {
        // As before the queue: a store that refuses the write is logged, the request is not failed.
        this.deps.log.error('audit entries not written', { count: batch.length, actions: [...new Set(batch.map((r) => r.entry.action))].slice(0, 10), err });
      }
    }
  }
}
