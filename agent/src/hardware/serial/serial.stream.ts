import type { StreamKind } from '../../streams/stream-host.js';
import type { SerialService } from './serial.service.js';

/**
 * Stream kind `serial`: a profile serial port as a terminal stream over the relay (the same
 * mechanism as shells). Bytes from the port go out as stream data; operator input is written to
 * the port. The port stays claimed until the stream is cancelled, detached or lost.
 */
export function serialStreamKind(serial: SerialService): StreamKind<'serial'> {
  return {
    async open(spec, stream) {
      const port = await serial.claim(spec.port, spec.baud);
      // A serial line cannot be paused: output beyond the window is buffered by the stream.
      const off = port.conn.onData((chunk) => stream.write(chunk));
      let ended = false;
      const finish = (reason?: string): void => {
        if (ended) return;
        ended = true;
        off();
        port.release();
        if (!stream.finished) stream.end(reason ? { status: 'rejected', reason } : { status: 'fulfilled', value: { port: port.name } });
      };
      stream.onInput((data, done) => {
        port.conn.write(data).then(done, (err: unknown) => {
          done();
          finish(`write to ${port.path} failed: ${err instanceof Error ? err.message : String(err)}`);
        });
      });
      stream.onCommand((cmd) => {
        if (cmd.type === 'cancel' || cmd.type === 'detach' || cmd.type === 'close-input') finish();
      });
      stream.onGone(() => finish());
      return { port: port.name, path: port.path, baud: port.baud };
    },
  };
}
