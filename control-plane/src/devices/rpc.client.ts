import { randomBytes } from 'node:crypto';
import {
  decodeJson,
  EdgehookError,
  encodeJson,
  filterFor,
  isErrorCode,
  RpcMethods,
  RpcResponse,
  Topics,
  topicFor,
  validate,
  type Clock,
  type Logger,
  type RpcMethod,
  type RpcParams,
  type RpcRequest,
  type RpcResult,
} from '@edgehook/shared';
import type { Transport } from '@edgehook/shared/transport';
import type { DeviceTransport, DeviceTransportKinds, TransportKind } from './device-transport.js';

interface Pending {
  deviceId: string;
  resolve: (value: unknown) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

/**
 * Calls into devices: over the broker (our agents), or through another DeviceTransport the device
 * was created with (a Quix WSI backend, see device-transport.ts), chosen per device. Answers come back on a topic carrying this instance's id,
 * so with several control-plane replicas each gets only its own responses; the pending map
 * is per-process on purpose (a call lives exactly as long as the HTTP request waiting on it).
 */
export class RpcClient implements DeviceTransport {
  readonly kind = 'mqtt' as const;
  private readonly pending = new Map<string, Pending>();
  private readonly others = new Map<TransportKind, DeviceTransport>();

  constructor(
    private readonly deps: { transport: Transport; instanceId: string; clock: Clock; log: Logger; defaultTimeoutMs: number; kinds?: DeviceTransportKinds },
  ) {}

  /** Devices whose transport is `t.kind` are called through `t` from now on. */
  useTransport(t: DeviceTransport): void {
    this.others.set(t.kind, t);
  }

  async start(): Promise<void> {
    await this.deps.transport.subscribe(filterFor('rpcResponse', { replyTo: this.deps.instanceId }), (topic, payload) => this.onResponse(topic, payload));
  }

  private onResponse(topic: string, payload: Buffer): void {
    const decoded = decodeJson(RpcResponse, payload);
    if (!decoded.ok) {
      this.deps.log.warn('malformed rpc response', { topic, error: decoded.error });
      return;
    }
    const res = decoded.value;
    const pending = this.pending.get(res.id);
    // Unknown ids are late answers to calls that timed out, or duplicates: nothing waits for them.
    if (!pending || !topic.includes(`/d/${pending.deviceId}/`)) return;
    this.pending.delete(res.id);
    clearTimeout(pending.timer);
    if (res.ok) pending.resolve(res.result);
    else pending.reject(new EdgehookError(isErrorCode(res.error.code) ? res.error.code : 'INTERNAL', res.error.message, res.error.details));
  }

  /**
   * `requestId`: a caller-chosen id (jobs: one per job and device), so a call sent again (after a
   * restart, by another replica) is the same request to the agent, which runs it once.
   */
  /**
   * `kind`: the device's transport when the caller holds its row (the device middleware read it),
   * sparing the lookup: a device not yet in the kinds cache costs a query per call otherwise.
   */
  async call<M extends RpcMethod>(deviceId: string, method: M, params: RpcParams<M>, opts: { timeoutMs?: number; requestId?: string; kind?: TransportKind } = {}): Promise<RpcResult<M>> {
    const timeoutMs = opts.timeoutMs ?? this.deps.defaultTimeoutMs;
    const kind = opts.kind ?? (this.deps.kinds ? await this.deps.kinds.kindOf(deviceId) : 'mqtt');
    const through = kind === 'mqtt' ? this : this.others.get(kind);
    if (!through) throw new EdgehookError('DEVICE_OFFLINE', `this control plane has no ${kind} gateway for the device`);
    const raw = await through.send(deviceId, method, params, timeoutMs, opts.requestId);
    const checked = validate(RpcMethods[method].result, raw);
    if (!checked.ok) throw new EdgehookError('INTERNAL', `the device answered ${method} with an invalid result: ${checked.error}`);
    return checked.value;
  }

  /** The MQTT transport: a request on the device's topic, the answer on this instance's. */
  send(deviceId: string, method: RpcMethod, params: unknown, timeoutMs: number, requestId?: string): Promise<unknown> {
    const id = requestId ?? randomBytes(12).toString('hex');
    if (this.pending.has(id)) return Promise.reject(new EdgehookError('CONFLICT', `request ${id} is already waiting for its answer`));
    // The params were typed by `call` (RpcParams<M>); the agent validates them against the map.
    const request = { id, method, params, deadline: this.deps.clock.now() + timeoutMs } satisfies Omit<RpcRequest, 'params'> & { params: unknown };
    return new Promise<unknown>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new EdgehookError('DEVICE_TIMEOUT', `the device did not answer ${method} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, { deviceId, resolve, reject, timer });
      this.deps.transport
        .publish(topicFor('rpcRequest', { deviceId, replyTo: this.deps.instanceId, requestId: id }), encodeJson(request), { qos: Topics.rpcRequest.qos })
        .catch((err: unknown) => {
          clearTimeout(timer);
          this.pending.delete(id);
          reject(new EdgehookError('DEVICE_OFFLINE', `cannot reach the broker: ${err instanceof Error ? err.message : String(err)}`));
        });
    });
  }

  /** Fails every call still waiting (shutdown). */
  cancelAll(reason: string): void {
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(new EdgehookError('DEVICE_OFFLINE', reason));
      this.pending.delete(id);
    }
  }
}
