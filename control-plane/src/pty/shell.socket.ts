import type { Kysely } from 'kysely';
import type { WebSocket } from 'ws';
import { decodeJson, ShellClientMessage, type Logger } from '@edgehook/shared';
import type { Database } from '../db/database.js';
import type { Principal } from '../auth/authenticator.js';
import type { RelayStream, StreamRelay } from '../streams/stream-relay.js';
import { operatorSocket } from '../streams/operator-socket.js';
import { asBuffer } from '../streams/ws-bridge.js';
import { onlineDevice } from '../devices/device.middleware.js';

export interface ShellSocketDeps {
  db: Kysely<Database>;
  relay: StreamRelay;
  log: Logger;
}

/**
 * `/api/devices/:id/shell`: one PTY per socket. Binary frames are terminal bytes both ways; text
 * frames are JSON control (ShellClientMessage in, RelayServerMessage out). Closing the socket without
 * `{type:"close"}` leaves the shell detached on the device for a reattach with `session`.
 */
export function serveShellSocket(deps: ShellSocketDeps, ws: WebSocket, principal: Principal, deviceRef: string): void {
  let stream: RelayStream<'pty'> | undefined;
  const op = operatorSocket(deps, ws, principal, {
    part: 'shell',
    device: deviceRef,
    failClose: (err) => [1011, err.code === 'DEVICE_OFFLINE' ? 'device offline' : 'shell failed'],
    // Without an explicit close the shell stays on the device, detached, for a reattach.
    onClose: (ending) => {
      if (stream && !stream.done && !ending) stream.detach();
    },
  });

  const open = async (msg: Extract<ShellClientMessage, { type: 'open' }>): Promise<void> => {
    const device = await onlineDevice(deps.db, deviceRef);
    if (ws.readyState !== ws.OPEN) return;
    const spec = { cols: msg.cols, rows: msg.rows, ...(msg.shell ? { shell: msg.shell } : {}), ...(msg.session ? { attach: msg.session } : {}) };
    stream = op.openBytes(deps.relay, device.id, 'pty', spec);
    const info = await stream.opened;
    op.log.info('shell opened', { sessionId: info?.sessionId, reattached: info?.reattached });
  };

  ws.on('message', (raw, isBinary) => {
    const data = asBuffer(raw);
    if (isBinary) {
      // Keys typed before the device answers are kept (bounded) and sent once the stream exists.
      return op.input(stream, data);
    }
    const decoded = decodeJson(ShellClientMessage, data);
    if (!decoded.ok) return op.send({ type: 'error', code: 'BAD_REQUEST', message: `bad control frame: ${decoded.error}` });
    const msg = decoded.value;
    if (msg.type === 'open') {
      if (stream) return op.send({ type: 'error', code: 'CONFLICT', message: 'this socket already has a shell; open another socket for another shell' });
      op.opened();
      open(msg).catch(op.fail);
    } else if (msg.type === 'resize') stream?.resize(msg.cols, msg.rows);
    else stream?.cancel();
  });
}
