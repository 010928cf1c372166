import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { decodeJson } from '@edgehook/shared';

const BLOCK = 1000;

/**
 * Per-device batch sequence numbers that are never reused, even across restarts, without a disk
 * write per batch: a block of numbers is reserved on disk before any of it is used. A crash
 * skips the rest of the block (a gap), which is harmless; reuse would make the control plane
 * discard new data as duplicates.
 */
const SavedSequence = z.object({ reservedUpTo: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER) });

export class SequenceNumbers {
  private next = 0;
  private reservedUpTo = 0;

  private constructor(private readonly path: string) {}

  static async open(stateDir: string): Promise<SequenceNumbers> {
    const seq = new SequenceNumbers(join(stateDir, 'telemetry-seq.json'));
    // A missing or damaged file restarts at 0: the control plane then sees a new device session.
    const text = await readFile(seq.path, 'utf8').catch(() => undefined);
    const saved = text === undefined ? undefined : decodeJson(SavedSequence, text);
    seq.next = saved?.ok ? saved.value.reservedUpTo : 0;
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
