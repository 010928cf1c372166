import type { WebSocket } from 'ws';
import type { Kysely } from 'kysely';
import { hasPermission, type FleetEvent, type Logger } from '@edgehook/shared';
import type { Database } from '../db/database.js';
import type { Principal } from '../http/context.js';
import type { FleetEvents } from './fleet-events.js';
import { keepAlive } from '../http/socket-keep-alive.js';

/** Above this many unsent bytes a consumer is too slow: drop events rather than grow memory. */
const MAX_BUFFERED = 1024 * 1024;

/** `/api/events`: fleet events for one operator, as JSON text frames. */
export function serveEventsSocket(deps: { db: Kysely<Database>; events: FleetEvents; log: Logger }, ws: WebSocket, principal: Principal): void {
  let dropped = 0;
  const unsubscribe = deps.events.subscribe((event: FleetEvent) => {
    if (ws.readyState !== ws.OPEN) return;
    // Pull progress is container state: only for those who may read the device's containers
    // (checked per event: the principal's grants follow role changes in place).
    if (event.type === 'container.pull' && !hasPermission(principal.permissions, 'containers.read')) return;
    // Job progress is for those who may read jobs (checked per event: a role change applies at once).
    if (event.type === 'job.updated' && !hasPermission(principal.permissions, 'jobs.read')) return;
    if (ws.bufferedAmount > MAX_BUFFERED) {
      dropped++;
      return;
    }
    if (dropped > 0) {
      ws.send(JSON.stringify({ type: 'events.dropped', count: dropped, ts: event.ts }));
      dropped = 0;
    }
    ws.send(JSON.stringify(event));
  });
  ws.on('message', () => {
    // The stream is one-way; client frames are ignored rather than treated as errors.
  });
  ws.once('close', unsubscribe);
  ws.on('error', (err) => deps.log.debug('events socket error', { err }));
  keepAlive(ws);
  ws.send(JSON.stringify({ type: 'hello', user: principal.username, ts: Date.now() }));
}
