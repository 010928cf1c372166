import type { WebSocket } from 'ws';
import type { RelayStream } from './stream-relay.js';

/**
 * Sends stream output to an operator's socket. Credit goes back to the device only once ws has
 * handed the frame to the kernel, so a slow operator pauses the source (the pty or the process)
 * instead of growing our memory: at most one window per stream is ever buffered here.
 */
export function sendWithCredit(ws: WebSocket, stream: RelayStream, data: Buffer | string, bytes: number, binary: boolean): void {
  if (ws.readyState !== ws.OPEN) return stream.consumed(bytes);
  ws.send(data, { binary }, () => stream.consumed(bytes));
}

/** Forwards operator input under the device's credit; the socket stops being read while none is left. */
export function forwardInput(ws: WebSocket, stream: RelayStream, data: Buffer): void {
  if (!stream.write(data)) {
    ws.pause();
    stream.onWritable(() => ws.resume());
  }
}

export function asBuffer(data: Buffer | ArrayBuffer | Buffer[]): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}

/** One text frame of JSON, skipped when the socket has gone. */
export function sendJson(ws: WebSocket, value: unknown): void {
  if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(value));
}
