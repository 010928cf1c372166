import type { WebSocket } from 'ws';

/**
 * Keeps half-open sockets from living forever: ping every interval, drop if no pong came back.
 * A socket we paused ourselves (input backpressure in a relay) cannot read pongs, so it is spared.
 */
export function keepAlive(ws: WebSocket, everyMs = 30_000): void {
  let alive = true;
  ws.on('pong', () => {
    alive = true;
  });
  const timer = setInterval(() => {
    if (ws.isPaused) return;
    if (!alive) return ws.terminate();
    alive = false;
    ws.ping();
  }, everyMs);
  timer.unref();
  ws.once('close', () => clearInterval(timer));
}
