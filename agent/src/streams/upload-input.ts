import type { AgentStream } from './stream-host.js';

/**
 * The input side of an upload kind (file write, msd write): chunks are written in arrival order
 * and each is acknowledged only once written, so the sender's credit is the disk's pace. Returns
 * `then`, which queues work (a commit on close-input) behind the writes already received.
 */
export function uploadInput(
  stream: AgentStream,
  sink: {
    write(data: Buffer): Promise<unknown>;
    /** True once the upload failed or finished: later chunks are acknowledged, not written. */
    over(): boolean;
    onError(err: unknown): void;
  },
): (task: () => Promise<void>) => void {
  let chain: Promise<void> = Promise.resolve();
  const then = (task: () => Promise<void>): void => {
    chain = chain.then(task);
  };
  stream.onInput((data, done) =>
    then(async () => {
      if (!sink.over()) await sink.write(data).catch(sink.onError);
      done();
    }),
  );
  return then;
}
