import {
  EdgehookError,
  RpcMethods,
  validate,
  WsiExecuteReply,
  WsiSignalReply,
  WsiTelemetryReply,
  WsiViewRunningReply,
  type RpcMethod,
  type RunningProcess,
  type TelemetrySnapshot,
} from '@edgehook/shared';
import type * as z from '@edgehook/shared/zod';
import type { DeviceTransport } from '../devices/device-transport.js';
import type { WsiConnection } from './wsi-connection.js';

export const WSI_VERBS = 'execute, view_running, proc_signal and telemetry';
/** Why a stream kind (shell, exec, console, file transfer) cannot open on a WSI device. */
export const WSI_NO_STREAMS = `not supported by this device: a Quix WSI backend has no byte streams (shells, consoles, file transfer); it answers ${WSI_VERBS}`;

function unsupported(what: string): EdgehookError {
  return new EdgehookError('UNKNOWN_METHOD', `${what} is not supported by this device: a Quix WSI backend answers only ${WSI_VERBS}`);
}

function params<M extends RpcMethod>(method: M, raw: unknown): z.output<(typeof RpcMethods)[M]['params']> {
  const checked = validate(RpcMethods[method].params, raw);
  if (!checked.ok) throw new EdgehookError('BAD_REQUEST', `invalid ${method} params: ${checked.error}`);
  return checked.value;
}

function reply<T>(verb: string, schema: z.ZodMiniType<T>, msg: unknown): T {
  const checked = validate(schema, msg);
  if (!checked.ok) throw new EdgehookError('INTERNAL', `the backend answered ${verb} with an invalid reply: ${checked.error}`);
  return checked.value;
}

/**
 * A backend that answered anything but `result: "success"` refused the request. A refused
 * proc_signal is 403 as on our agent (the seed: only what Quix started may be signalled).
 */
function refused(verb: string, r: { result: string; reason?: string | undefined }): EdgehookError {
  return new EdgehookError(verb === 'proc_signal' ? 'FORBIDDEN' : 'CONFLICT', `the backend refused ${verb}: ${r.reason ?? r.result}`);
}

/**
 * The WSI side of the device-transport seam: our RPC methods in the seed's verbs, on the socket
 * the backend holds open (one per device, on the replica it connected to).
 */
export class WsiTransport implements DeviceTransport {
  readonly kind = 'wsi' as const;
  private readonly connections = new Map<string, WsiConnection>();

  constructor(private readonly deps: { onTelemetry: (deviceId: string, snapshot: TelemetrySnapshot) => void; now: () => number; maxTimeoutMs: number }) {}

  /** The device's current socket; returns the one it replaces, if any. */
  attach(conn: WsiConnection): WsiConnection | undefined {
    const old = this.connections.get(conn.deviceId);
    this.connections.set(conn.deviceId, conn);
    return old;
  }

  /** Forgets the socket unless a newer one already took its place. */
  detach(conn: WsiConnection): void {
    if (this.connections.get(conn.deviceId) === conn) this.connections.delete(conn.deviceId);
  }

  connection(deviceId: string): WsiConnection | undefined {
    return this.connections.get(deviceId);
  }

  all(): WsiConnection[] {
    return [...this.connections.values()];
  }

  streamsUnsupported(): string {
    return WSI_NO_STREAMS;
  }

  async send(deviceId: string, method: RpcMethod, raw: unknown, callerTimeoutMs: number): Promise<unknown> {
    const conn = this.connections.get(deviceId);
    // The caller's deadline, bounded by the gateway's request timeout.
    const timeoutMs = Math.min(callerTimeoutMs, this.deps.maxTimeoutMs);
    switch (method) {
      case 'processes.start': {
        const { spec } = params(method, raw);
        if (!('argv' in spec)) throw unsupported('a server-defined action (pow-1 call)');
        if (spec.cwd !== undefined || spec.env !== undefined) throw unsupported('cwd or env for execute (the seed sends only cmd)');
        const c = this.live(conn);
        const r = reply('execute', WsiExecuteReply, await c.request('execute', { cmd: spec.argv }, timeoutMs));
        if (!('proc_id' in r)) throw refused('execute', r);
        if (c.startedAt.size >= 4096) c.startedAt.clear();
        c.startedAt.set(r.proc_id, this.deps.now());
        return { id: String(r.proc_id), pid: r.proc_id };
      }
      case 'processes.list': {
        params(method, raw);
        const c = this.live(conn);
        const list = reply('view_running', WsiViewRunningReply, await c.request('view_running', { verb: 1 }, timeoutMs));
        // Everything a backend runs was `execute`d with an argv: 'arbitrary'; start time 0 when we did not start it.
        return list.map((p): RunningProcess => ({ id: String(p.pid), pid: p.pid, title: p.title, reqc: p.reqc, cpu_util: p.cpu_util, mem_util: p.mem_util, port_util: p.port_util, startedAt: c.startedAt.get(p.pid) ?? 0, kind: 'arbitrary' }));
      }
      case 'processes.signal': {
        const p = params(method, raw);
        const r = reply('proc_signal', WsiSignalReply, await this.live(conn).request('proc_signal', { pid: p.pid, mode: p.signal }, timeoutMs));
        if (r.result !== 'success') throw refused('proc_signal', r);
        return {};
      }
      case 'telemetry': {
        const p = params(method, raw);
        const snapshot = reply('telemetry', WsiTelemetryReply, await this.live(conn).request('telemetry', { stat_types: p.stat_types }, timeoutMs));
        // Every snapshot is also stored, like an agent's telemetry.
        this.deps.onTelemetry(deviceId, snapshot);
        return snapshot;
      }
      case 'ping': {
        // Not a seed verb: a websocket ping, which every RFC 6455 peer answers.
        const p = params(method, raw);
        await this.pong(this.live(conn), timeoutMs);
        return { sentAt: p.sentAt, agentTime: this.deps.now() };
      }
      case 'processes.status':
        throw unsupported('process output and status (the seed has no verb for it)');
      default:
        throw unsupported(method);
    }
  }

  private live(conn: WsiConnection | undefined): WsiConnection {
    if (!conn || conn.closed) throw new EdgehookError('DEVICE_OFFLINE', 'the WSI backend is not connected to this control plane');
    return conn;
  }

  private pong(conn: WsiConnection, timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        conn.ws.off('pong', done);
        reject(new EdgehookError('DEVICE_TIMEOUT', `the backend did not answer a ping within ${timeoutMs} ms`));
      }, timeoutMs);
      const done = (): void => {
        clearTimeout(timer);
        resolve();
      };
      conn.ws.once('pong', done);
      conn.ws.ping();
    });
  }
}
