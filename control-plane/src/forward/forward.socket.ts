import type { IncomingMessage } from 'node:http';
import type { Kysely } from 'kysely';
import type { WebSocket } from 'ws';
import { decodeJson, EdgehookError, ForwardClientMessage, ForwardQuery, validate, type ForwardServerMessage, type Logger } from '@edgehook/shared';
import type { Database } from '../db/database.js';
import type { Principal } from '../auth/authenticator.js';
import { onlineDevice } from '../devices/device.middleware.js';
import { keepAlive } from '../http/socket-keep-alive.js';
import type { RelayStream, StreamRelay } from '../streams/stream-relay.js';
import { asBuffer, forwardInput, sendJson, sendWithCredit } from '../streams/ws-bridge.js';

export interface ForwardSocketDeps {
  db: Kysely<Database>;
  relay: StreamRelay;
  log: Logger;
}

/** Close codes the CLI reads with the error frame before them. */
export const ForwardClose = { refused: 4403, offline: 4503, failed: 4502 } as const;

function closeFor(err: EdgehookError): number {
  if (err.code === 'FORBIDDEN') return ForwardClose.refused;
  if (err.code === 'DEVICE_OFFLINE') return ForwardClose.offline;
  return ForwardClose.failed;
}

/**
 * `/api/devices/:id/forward?host=&port=`: one TCP connection on the device per socket. Binary
 * frames are the bytes both ways; text frames are ForwardClientMessage in (close-input: the local
 * side's FIN) and ForwardServerMessage out (opened, error, end). Device output is acked only once
 * ws handed the frame to the kernel (at most one window buffered here); input waits for the
 * device's credit with the socket paused.
 */
export function serveForwardSocket(deps: ForwardSocketDeps, ws: WebSocket, principal: Principal, deviceRef: string, req: IncomingMessage): void {
  const log = deps.log.child({ part: 'forward', user: principal.username, device: deviceRef });
  const send = (msg: ForwardServerMessage): void => sendJson(ws, msg);
  let stream: RelayStream<'tcp-forward'> | undefined;
  let ending = false;
  const fail = (raw: unknown): void => {
    if (ending) return;
    ending = true;
    const err = raw instanceof EdgehookError ? raw : new EdgehookError('INTERNAL', raw instanceof Error ? raw.message : String(raw));
    send({ type: 'error', code: err.code, message: err.message });
    ws.close(closeFor(err), err.code);
  };
  keepAlive(ws);
  ws.on('error', (err) => log.debug('forward socket error', { err }));
  ws.once('close', () => {
    if (stream && !stream.done) stream.detach();
  });
  ws.once('revoked', (reason: string) => {
    ending = true;
    log.info('forward revoked', { reason });
  });
  // Input before the device answered is kept by the relay stream under its window.
  ws.on('message', (raw, isBinary) => {
    const data = asBuffer(raw);
    if (!stream || stream.done) return;
    if (isBinary) return forwardInput(ws, stream, data);
    const msg = decodeJson(ForwardClientMessage, data);
    if (!msg.ok) return send({ type: 'error', code: 'BAD_REQUEST', message: `bad control frame: ${msg.error}` });
    stream.closeInput();
  });

  const query = validate(ForwardQuery, Object.fromEntries(new URL(req.url ?? '/', 'http://localhost').searchParams));
  if (!query.ok) return fail(new EdgehookError('BAD_REQUEST', `invalid forward destination: ${query.error}`));
  // Paused until the stream exists, so no input frame is read before there is a stream to take it.
  ws.pause();
  onlineDevice(deps.db, deviceRef).then(
    (device) => {
      if (ws.readyState !== ws.OPEN) return;
      const s = deps.relay.open(device.id, 'tcp-forward', query.value, {
        onData: (data) => sendWithCredit(ws, s, data, data.length, true),
        onEnd: (result) => {
          send(result.status === 'fulfilled' ? { type: 'end', ok: true } : { type: 'end', ok: false, reason: result.reason });
          ending = true;
          ws.close(1000);
        },
        onError: fail,
      });
      stream = s;
      ws.resume();
      s.opened.then(
        (info) => {
          if (info) send({ type: 'opened', info });
          log.info('forward opened', { host: query.value.host, port: query.value.port, address: info?.address });
        },
        () => undefined,
      );
    },
    fail,
  );
}
