import type { IncomingMessage } from 'node:http';
import type { Kysely } from 'kysely';
import type { WebSocket } from 'ws';
import type { Clock, Logger, TelemetryBatch } from '@edgehook/shared';
import type { Authenticator } from '../auth/authenticator.js';
import type { LiveSockets } from '../auth/live-sockets.js';
import type { AuditDeps } from '../audit/audit.middleware.js';
import type { Database } from '../db/database.js';
import type { DeviceTransportKinds } from '../devices/device-transport.js';
import type { FleetEvents } from '../events/fleet-events.js';
import { MAX_BUFFERED_BYTES } from './wsi-connection.js';
import { SnapshotBatches } from './wsi-telemetry.js';
import { WsiTransport } from './wsi.transport.js';
import { serveWsiSocket } from './wsi.socket.js';

/** What answers a backend's `get_vpn_conf`: the VPN service (built elsewhere), when there is one. */
export interface WsiVpn {
  wireguardConfigForBackend(deviceId: string): Promise<string>;
}

export interface WsiOptions {
  /** Token lifetime (the seed's `validity`, 86400 s in its example). */
  tokenTtlMs: number;
  /** How long a backend has at most to answer one of our requests (a route may ask for less). */
  requestTimeoutMs: number;
  /** How often connected backends are asked for telemetry (0: only on request). */
  telemetryEveryMs: number;
  /** A socket that has not authenticated by then is closed. */
  authTimeoutMs: number;
  maxBufferedBytes: number;
}

export const DEFAULT_WSI_OPTIONS: WsiOptions = { tokenTtlMs: 86_400_000, requestTimeoutMs: 10_000, telemetryEveryMs: 15_000, authTimeoutMs: 30_000, maxBufferedBytes: MAX_BUFFERED_BYTES };

export interface WsiGatewayInput {
  db: Kysely<Database>;
  clock: Clock;
  log: Logger;
  auth: Authenticator;
  sockets: LiveSockets;
  events: FleetEvents;
  audit: AuditDeps;
  kinds: DeviceTransportKinds;
  /** Where snapshots are stored, like agent batches (telemetry.ingest). */
  ingest: { enqueue(deviceId: string, batch: TelemetryBatch): void };
  vpn?: WsiVpn | undefined;
  options?: Partial<WsiOptions> | undefined;
}

export interface WsiGatewayDeps extends Omit<WsiGatewayInput, 'options' | 'ingest'> {
  transport: WsiTransport;
  options: WsiOptions;
}

export interface WsiGateway {
  /** Give it to `rpc.useTransport`: calls on 'wsi' devices go through it. */
  transport: WsiTransport;
  /** The `/wsi` socket route's handler. */
  serve(ws: WebSocket, req: IncomingMessage): void;
}

/** The Quix WSI gateway (docs/wsi.md): the `/wsi` socket and the device transport behind it. */
export function createWsiGateway(input: WsiGatewayInput): WsiGateway {
  const options = { ...DEFAULT_WSI_OPTIONS, ...input.options };
  const batches = new SnapshotBatches();
  const log = input.log.child({ part: 'wsi' });
  const transport = new WsiTransport({
    now: () => input.clock.now(),
    maxTimeoutMs: options.requestTimeoutMs,
    onTelemetry(deviceId, snapshot) {
      const batch = batches.batch(deviceId, input.clock.now(), snapshot.tele_data);
      if (batch) input.ingest.enqueue(deviceId, batch);
    },
  });
  input.events.subscribe((e) => {
    if (e.type !== 'device.deleted') return;
    input.kinds.forget(e.deviceId);
    batches.forget(e.deviceId);
  });
  const deps: WsiGatewayDeps = { ...input, log, transport, options };
  return { transport, serve: (ws, req) => serveWsiSocket(deps, ws, req) };
}
