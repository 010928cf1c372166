import type { Kysely } from 'kysely';
import type { WebSocket } from 'ws';
import { decodeJson, SerialClientMessage, type Logger } from '@edgehook/shared';
import type { Database } from '../db/database.js';
import type { Principal } from '../auth/authenticator.js';
import type { RelayStream, StreamRelay } from '../streams/stream-relay.js';
import { operatorSocket } from '../streams/operator-socket.js';
import { asBuffer } from '../streams/ws-bridge.js';
import { onlineDevice } from '../devices/device.middleware.js';

export interface SerialSocketDeps {
  db: Kysely<Database>;
  relay: StreamRelay;
  log: Logger;
}

/**
 * `/api/devices/:id/serial`: a serial console of the device's board, relayed like a shell.
 * Text frames are JSON control (SerialClientMessage in, RelayServerMessage out); binary frames
 * are the line's bytes both ways. The port is released when the socket closes.
 */
export function serveSerialSocket(deps: SerialSocketDeps, ws: WebSocket, principal: Principal, deviceRef: string): void {
  let stream: RelayStream<'serial'> | undefined;
  const op = operatorSocket(deps, ws, principal, {
    part: 'serial',
    device: deviceRef,
    failClose: (err) => [1011, err.code === 'DEVICE_OFFLINE' ? 'device offline' : 'serial console failed'],
    // A serial port is a shared line: leaving releases it (nothing to reattach to).
    onClose: (ending) => {
      if (stream && !stream.done && !ending) stream.cancel();
    },
  });

  const open = async (msg: Extract<SerialClientMessage, { type: 'open' }>): Promise<void> => {
    const device = await onlineDevice(deps.db, deviceRef);
    if (ws.readyState !== ws.OPEN) return;
    const spec = { ...(msg.port ? { port: msg.port } : {}), ...(msg.baud ? { baud: msg.baud } : {}) };
    stream = op.openBytes(deps.relay, device.id, 'serial', spec);
    const info = await stream.opened;
    op.log.info('serial console opened', info);
  };

  ws.on('message', (raw, isBinary) => {
    const data = asBuffer(raw);
    if (isBinary) return op.input(stream, data);
    const decoded = decodeJson(SerialClientMessage, data);
    if (!decoded.ok) return op.send({ type: 'error', code: 'BAD_REQUEST', message: `bad control frame: ${decoded.error}` });
    const msg = decoded.value;
    if (msg.type === 'open') {
      if (stream) return op.send({ type: 'error', code: 'CONFLICT', message: 'this socket already has a serial console open' });
      op.opened();
      open(msg).catch(op.fail);
    } else stream?.cancel();
  });
}
