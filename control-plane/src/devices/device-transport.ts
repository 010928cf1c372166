import type { Kysely } from 'kysely';
import type { RpcMethod } from '@edgehook/shared';
import type { Database } from '../db/database.js';

/** How the control plane reaches a device: our agent over MQTT, or a Quix WSI backend on /wsi. */
export type TransportKind = 'mqtt' | 'wsi';

export function transportKind(column: string | null | undefined): TransportKind {
  return column === 'wsi' ? 'wsi' : 'mqtt';
}

/**
 * The device-transport seam. Routes and services call `rpc.call(deviceId, method, params)`; the
 * RpcClient hands the call to the device's transport, then validates the raw result against the
 * RPC map whatever the transport. The MQTT one is the RpcClient's own; the WSI one
 * (wsi/wsi.transport.ts) translates the few methods a WSI backend has and refuses the rest with
 * UNKNOWN_METHOD (501, "not supported by this device").
 */
export interface DeviceTransport {
  readonly kind: TransportKind;
  /** Sends one call and resolves with the device's raw answer; rejects with an EdgehookError. */
  /** `requestId`: the caller's id for an idempotent retry (jobs); a transport without such ids ignores it. */
  send(deviceId: string, method: RpcMethod, params: unknown, timeoutMs: number, requestId?: string): Promise<unknown>;
  /** Byte streams (shells, exec, consoles): undefined when supported, else why not. */
  streamsUnsupported?(deviceId: string): string | undefined;
}

const MAX_CACHED = 100_000;

/**
 * Which transport each device uses. A device's transport is fixed when it is created, so the
 * answer is cached for good; the synchronous `peek` serves the stream relay, which opens at once.
 */
export class DeviceTransportKinds {
  private readonly kinds = new Map<string, TransportKind>();

  constructor(private readonly db: Kysely<Database>) {}

  /** Reads every non-MQTT device once at start (there are few). */
  async load(): Promise<void> {
    const rows = await this.db.selectFrom('devices').select(['id', 'transport']).where('transport', '!=', 'mqtt').execute();
    for (const r of rows) this.remember(r.id, transportKind(r.transport));
  }

  remember(deviceId: string, kind: TransportKind): void {
    if (this.kinds.size >= MAX_CACHED && !this.kinds.has(deviceId)) {
      const oldest = this.kinds.keys().next();
      if (!oldest.done) this.kinds.delete(oldest.value);
    }
    this.kinds.set(deviceId, kind);
  }

  forget(deviceId: string): void {
    this.kinds.delete(deviceId);
  }

  peek(deviceId: string): TransportKind | undefined {
    return this.kinds.get(deviceId);
  }

  async kindOf(deviceId: string): Promise<TransportKind> {
    const known = this.kinds.get(deviceId);
    if (known) return known;
    const row = await this.db.selectFrom('devices').select('transport').where('id', '=', deviceId).executeTakeFirst();
    // An unknown device stays uncached: the MQTT call then times out as it always did.
    if (!row) return 'mqtt';
    const kind = transportKind(row.transport);
    this.remember(deviceId, kind);
    return kind;
  }
}
