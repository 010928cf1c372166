/**
 * Credit for received stream bytes, batched: everything consumed in one turn of the event loop
 * goes back in a single `ack` (a flood does not cost one control message per chunk, an echo's
 * ack still leaves at once). Both stream ends (the agent's stream host, the control plane's
 * relay) use it; `send` decides whether the stream is still there to ack.
 */
export class AckBatcher {
  private pending = 0;
  private scheduled = false;

  constructor(private readonly send: (bytes: number) => void) {}

  add(bytes: number): void {
    this.pending += bytes;
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      const n = this.pending;
      this.pending = 0;
      if (n > 0) this.send(n);
    });
  }
}
