import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

const BLOCK = 1000;

/**
 * Per-device batch sequence numbers that are never reused, even across restarts, without a disk
 * write per batch: a block of numbers is reserved on disk before any of it is used. A crash
 * skips the rest of the block (a gap), which is harmless; reuse would make the control plane
 * discard new data as duplicates.
 */
export class SequenceNumbers {
  private next = 0;
  private reservedUpTo = 0;

  private constructor(private readonly path: string) {}

  static async open(stateDir: string): Promise<SequenceNumbers> {
    const seq = new SequenceNumbers(join(stateDir, 'telemetry-seq.json'));
    const saved = await readFile(seq.path, 'utf8').then(
      (t) => (JSON.parse(t) as { reservedUpTo?: unknown }).reservedUpTo,
      () => 0,
    );
    seq.next = typeof saved === 'number' && Number.isSafeInteger(saved) && saved >= 0 ? saved : 0;
    seq.reservedUpTo = seq.next;
    return seq;
  }

  async take(): Promise<number> {
    if (this.next >= this.reservedUpTo) {
      const upTo = this.next + BLOCK;
      await writeFile(this.path + '.tmp', JSON.stringify({ reservedUpTo: upTo }));
      await rename(this.path + '.tmp', this.path);
      this.reservedUpTo = upTo;
    }
    return this.next++;
  }
}
