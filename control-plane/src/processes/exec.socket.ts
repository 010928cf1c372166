import type { Kysely } from 'kysely';
import type { WebSocket } from 'ws';
import { decodeJson, EdgehookError, ExecClientMessage, type Logger, type StreamSpecInput } from '@edgehook/shared';
import type { Database } from '../db/database.js';
import { can, type Principal } from '../auth/authenticator.js';
import type { RelayStream, StreamRelay } from '../streams/stream-relay.js';
import { operatorSocket } from '../streams/operator-socket.js';
import { asBuffer, sendWithCredit } from '../streams/ws-bridge.js';
import { onlineDevice } from '../devices/device.middleware.js';

export interface ExecSocketDeps {
  db: Kysely<Database>;
  relay: StreamRelay;
  log: Logger;
}

/**
 * `/api/devices/:id/exec`, what `edgehook exec` speaks: like pow-1 but byte-exact and with stderr
 * kept apart. Text frames are JSON control (ExecClientMessage in, RelayServerMessage out); binary
 * frames are stdin from the client and `[channel byte][bytes]` (1 stdout, 2 stderr) to it.
 * Arbitrary argv needs `devices.exec.arbitrary` on top of `devices.exec`.
 */
export function serveExecSocket(deps: ExecSocketDeps, ws: WebSocket, principal: Principal, deviceRef: string): void {
  let stream: RelayStream<'process'> | undefined;
  let inputClosed = false;
  const op = operatorSocket(deps, ws, principal, {
    part: 'exec',
    device: deviceRef,
    failClose: () => [1000, ''],
    onClose: () => {
      if (stream && !stream.done) stream.detach();
    },
  });

  const open = async (spec: StreamSpecInput<'process'>): Promise<void> => {
    const device = await onlineDevice(deps.db, deviceRef);
    const s = deps.relay.open(device.id, 'process', spec, {
      onData: (data, channel) => {
        const framed = Buffer.allocUnsafe(data.length + 1);
        framed[0] = channel;
        data.copy(framed, 1);
        sendWithCredit(ws, s, framed, data.length, true);
      },
      onEnd: (result) => {
        op.markEnding();
        op.send({ type: 'end', result });
        ws.close(1000);
      },
      onError: op.fail,
    });
    stream = s;
    // Input that arrived while the device was looked up; afterwards the relay stream holds early input.
    op.flushEarly(s);
    if (inputClosed) s.closeInput();
    const info = await s.opened;
    op.send({ type: 'opened', info: info ?? {} });
  };

  ws.on('message', (raw, isBinary) => {
    if (op.ending) return;
    const data = asBuffer(raw);
    if (isBinary) {
      if (inputClosed) return;
      return op.input(stream, data);
    }
    const decoded = decodeJson(ExecClientMessage, data);
    if (!decoded.ok) return op.send({ type: 'error', code: 'BAD_REQUEST', message: `bad control frame: ${decoded.error}` });
    const msg = decoded.value;
    if (msg.type === 'open') {
      if (stream) return;
      op.opened();
      let spec: StreamSpecInput<'process'>;
      if ('argv' in msg) {
        if (!can(principal, 'devices.exec.arbitrary')) return op.fail(new EdgehookError('FORBIDDEN', 'your role lacks the permission devices.exec.arbitrary'));
        spec = { argv: msg.argv, ...(msg.cwd ? { cwd: msg.cwd } : {}), ...(msg.env ? { env: msg.env } : {}) };
      } else spec = { call: msg.call, params: msg.params };
      op.log.info('exec', { what: 'argv' in msg ? msg.argv.join(' ') : msg.call });
      open(spec).catch(op.fail);
    } else if (msg.type === 'close-input') {
      if (inputClosed) return;
      inputClosed = true;
      stream?.closeInput();
    } else if (stream) stream.cancel();
    else op.fail(new EdgehookError('BAD_REQUEST', 'cancelled before start'));
  });
}
