/** Credit at least this large (or a quarter of the window, if smaller) goes back in the same turn. */
export const ACK_EAGER_BYTES = 16 * 1024;
/** Smaller credit waits this long for more, so an echo's one-byte ack rides later (SSH's window adjust waits likewise). */
export const ACK_DELAY_MS = 20;

/**
 * Credit for received stream bytes, batched. A flood's credit goes back at the end of the turn
 * that consumed it (one control message per turn, not per chunk); a trickle's waits up to
 * ACK_DELAY_MS. Sending a keystroke's ack at once put one control message on the echo's path at
 * both ends: the agent published it before it read the pty, and the control plane parsed it before
 * the echo behind it (BENCHMARKS.md, shell). The sender cannot stall on the delay: it stops only
 * at `window` bytes unacknowledged, and eager credit is at most a quarter of that. Both stream
 * ends (the agent's stream host, the control plane's relay) use it; `send` decides whether the
 * stream is still there to ack.
 */
export class AckBatcher {
  private pending = 0;
  private immediate: ReturnType<typeof setImmediate> | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private readonly eagerBytes: number;

  constructor(
    private readonly send: (bytes: number) => void,
    window: number,
    private readonly delayMs = ACK_DELAY_MS,
  ) {
    this.eagerBytes = Math.max(1, Math.min(ACK_EAGER_BYTES, Math.floor(window / 4)));
  }

  add(bytes: number): void {
    this.pending += bytes;
    if (this.immediate) return;
    if (this.pending >= this.eagerBytes) {
      if (this.timer) clearTimeout(this.timer);
      this.timer = undefined;
      this.immediate = setImmediate(this.flush);
    } else if (!this.timer) {
      this.timer = setTimeout(this.flush, this.delayMs);
      // Credit for a stream the process is leaving behind is of no use to anyone.
      this.timer.unref();
    }
  }

  private readonly flush = (): void => {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.immediate = undefined;
    const n = this.pending;
    this.pending = 0;
    if (n > 0) this.send(n);
  };
}
