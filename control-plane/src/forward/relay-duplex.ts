import { Duplex } from 'node:stream';
import { EdgehookError, type ForwardOpened, type ForwardSpec } from '@edgehook/shared';
import type { RelayStream, StreamRelay } from '../streams/stream-relay.js';

/**
 * A `tcp-forward` stream as a node Duplex, for code that speaks HTTP or websocket over a socket
 * (the HTTP proxy gives it to `http.request` as its connection). Credit goes back to the device
 * only as the reader consumes, and writes wait for the device's credit, so neither side buffers
 * more than a window. Ending the writable half half-closes the device's connection.
 */
export class RelayDuplex extends Duplex {
  readonly stream: RelayStream<'tcp-forward'>;
  /** Resolves with the resolved address once the device connected; rejects with its refusal. */
  readonly opened: Promise<ForwardOpened>;
  private heldCredit = 0;

  constructor(relay: StreamRelay, deviceId: string, spec: ForwardSpec) {
    super({ allowHalfOpen: true });
    this.stream = relay.open(deviceId, 'tcp-forward', spec, {
      onData: (data) => {
        if (this.push(data)) this.stream.consumed(data.length);
        else this.heldCredit += data.length;
      },
      onEnd: (result) => {
        if (result.status === 'fulfilled') this.push(null);
        else this.destroy(new EdgehookError('DESTINATION_UNREACHABLE', result.reason));
      },
      onError: (err) => this.destroy(err),
    });
    this.opened = this.stream.opened.then((info) => {
      if (!info) throw new EdgehookError('DESTINATION_UNREACHABLE', 'the destination closed the connection at once');
      return info;
    });
    this.opened.catch(() => undefined);
    // A failure before anyone reads (a refused open) is reported through `opened`; never a crash.
    this.on('error', () => undefined);
  }

  override _read(): void {
    if (this.heldCredit === 0) return;
    const n = this.heldCredit;
    this.heldCredit = 0;
    this.stream.consumed(n);
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    if (this.stream.done) return cb(new EdgehookError('DESTINATION_UNREACHABLE', 'the forwarded connection is closed'));
    if (this.stream.write(chunk)) return cb();
    this.stream.onWritable(() => cb());
  }

  override _final(cb: (err?: Error | null) => void): void {
    if (!this.stream.done) this.stream.closeInput();
    cb();
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    if (!this.stream.done) this.stream.detach();
    cb(err);
  }

  // node:http and ws call these on their connection; a relayed stream has nothing to set.
  setNoDelay(): this {
    return this;
  }
  setKeepAlive(): this {
    return this;
  }
  setTimeout(): this {
    return this;
  }
}
