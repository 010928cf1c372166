import type { IncomingMessage } from 'node:http';
import type { Kysely } from 'kysely';
import type { WebSocket } from 'ws';
import type { LiveFrame, Logger, Sample } from '@edgehook/shared';
import type { Database } from '../db/database.js';
import type { Principal } from '../auth/authenticator.js';
import { keepAlive } from '../http/socket-keep-alive.js';
import { findDeviceByRef, listDevices } from '../devices/devices.repository.js';
import type { TelemetryService } from './telemetry.service.js';

/** Above this many unsent bytes the consumer is too slow: frames are dropped (and counted), not queued. */
const MAX_BUFFERED = 1024 * 1024;
const TAG_REFRESH_MS = 30_000;

/** `cpu.usage`, `mem.*` (prefix) or `*`. */
export function metricMatcher(patterns: string[]): (metric: string) => boolean {
  if (patterns.length === 0 || patterns.includes('*')) return () => true;
  const exact = new Set(patterns.filter((p) => !p.endsWith('*')));
  const prefixes = patterns.filter((p) => p.endsWith('*')).map((p) => p.slice(0, -1));
  return (m) => exact.has(m) || prefixes.some((p) => m.startsWith(p));
}

/**
 * `/api/telemetry/live?device=<id|name>` or `?tag=<tag>`, optionally `&metric=cpu.usage,mem.*`:
 * every stored batch of the chosen devices, filtered to the chosen metrics, as JSON text frames.
 */
export function serveTelemetryLive(deps: { db: Kysely<Database>; telemetry: TelemetryService; log: Logger }, ws: WebSocket, principal: Principal, req: IncomingMessage): void {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const deviceRef = url.searchParams.get('device');
  const tag = url.searchParams.get('tag');
  const patterns = (url.searchParams.get('metric') ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  const matches = metricMatcher(patterns);
  const send = (frame: LiveFrame): void => {
    if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(frame));
  };
  if (!deviceRef && !tag) {
    ws.close(4400, 'give ?device=<id or name> or ?tag=<tag>');
    return;
  }
  let devices = new Map<string, string>();
  let dropped = 0;
  const resolve = async (): Promise<void> => {
    if (deviceRef) {
      const row = await findDeviceByRef(deps.db, deviceRef);
      devices = new Map(row ? [[row.id, row.name]] : []);
    } else {
      devices = new Map((await listDevices(deps.db, { tag: tag ?? undefined })).map((d) => [d.id, d.name]));
    }
  };
  resolve().then(
    () => {
      if (deviceRef && devices.size === 0) {
        ws.close(4404, `no device with id or name ${deviceRef}`);
        return;
      }
      send({ type: 'hello', devices: devices.size, metrics: patterns });
      const unsubscribe = deps.telemetry.subscribe((stored) => {
        if (ws.readyState !== ws.OPEN) return;
        for (const s of stored) {
          const name = devices.get(s.deviceId);
          if (name === undefined) continue;
          const samples: Sample[] = s.batch.samples.filter((x) => matches(x.m));
          if (samples.length === 0) continue;
          if (ws.bufferedAmount > MAX_BUFFERED) {
            dropped++;
            continue;
          }
          if (dropped > 0) {
            send({ type: 'dropped', count: dropped });
            dropped = 0;
          }
          send({ type: 'samples', deviceId: s.deviceId, device: name, ts: s.batch.ts, replay: s.batch.replay === true, samples });
        }
      });
      const refresh = tag ? setInterval(() => void resolve().catch(() => undefined), TAG_REFRESH_MS) : undefined;
      refresh?.unref();
      ws.once('close', () => {
        unsubscribe();
        if (refresh) clearInterval(refresh);
      });
    },
    (err: unknown) => {
      deps.log.error('telemetry live socket setup failed', { err });
      ws.close(1011, 'internal error');
    },
  );
  ws.on('message', () => undefined);
  ws.on('error', (err) => deps.log.debug('telemetry live socket error', { err }));
  keepAlive(ws);
}
