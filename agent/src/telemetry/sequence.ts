import { readFile, rename, writeFile } from 'node:fs/promises';
import { nodeCrypto } from '@edgehook/shared/node-builtins';
import { join } from 'node:path';
import * as z from '@edgehook/shared/zod';
import { decodeJson, type Logger } from '@edgehook/shared';

const BLOCK = 1000;
/** An epoch is the high part of a sequence number: 2^32 numbers each (136 years at one a second). */
const EPOCH = 2 ** 32;
const EPOCHS = 2 ** 20;

/**
 * Per-device batch sequence numbers that are never reused, even across restarts, without a disk
 * write per batch: a block of numbers is reserved on disk before any of it is used. A crash
 * skips the rest of the block (a gap), which is harmless; reuse would make the control plane
 * discard new data as duplicates.
 */
const SavedSequence = z.object({ reservedUpTo: z.number().check(z.int(), z.nonnegative(), z.lte(Number.MAX_SAFE_INTEGER)) });

export interface SequenceOptions {
  log?: Logger;
  /** The lowest number still acceptable (one above the highest batch the spool still holds). */
  floor?: number;
  /** Picks the new epoch after a corruption (tests pass their own). */
  randomEpoch?: () => number;
}

export class SequenceNumbers {
  private next = 0;
  private reservedUpTo = 0;

  private constructor(private readonly path: string) {}

  static async open(stateDir: string, opts: SequenceOptions = {}): Promise<SequenceNumbers> {
    const seq = new SequenceNumbers(join(stateDir, 'telemetry-seq.json'));
    const text = await readFile(seq.path, 'utf8').catch(() => undefined);
    const saved = text === undefined ? undefined : decodeJson(SavedSequence, text);
    let next: number;
    if (saved?.ok) next = saved.value.reservedUpTo;
    else if (text === undefined) next = 0; // a new device: nothing was ever numbered
    else {
      // A damaged file: the numbers used before are unknown, and restarting at 0 would make the
      // control plane discard new batches as duplicates of old ones. A random fresh epoch (the
      // high bits) cannot meet the old range unless it picks the very same epoch (1 in 2^20).
      const epoch = 1 + (opts.randomEpoch ?? (() => nodeCrypto().randomInt(EPOCHS - 1)))();
      next = epoch * EPOCH;
      opts.log?.warn('telemetry sequence state was damaged; continuing in a fresh sequence epoch', { path: seq.path, epoch, next });
    }
    seq.next = Math.max(next, opts.floor ?? 0);
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
