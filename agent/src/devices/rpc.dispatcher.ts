import {
  decodeJson,
  EdgehookError,
  encodeJson,
  isRpcMethod,
  matchTopic,
  RpcMethods,
  RpcRequest,
  topicFor,
  validate,
  type Logger,
  type RpcMethod,
  type RpcParamsParsed,
  type RpcResponse,
  type RpcResult,
} from '@edgehook/shared';

export type RpcHandler<M extends RpcMethod> = (params: RpcParamsParsed<M>) => Promise<RpcResult<M>>;
export type RpcHandlers = { [M in RpcMethod]?: RpcHandler<M> };

/** How long an answered request id is remembered: covers any broker redelivery. */
const REMEMBER_MS = 10 * 60_000;
const REMEMBER_MAX = 2000;

/** setTimeout's largest delay: a later deadline is as good as none. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** The handler's answer, or a timeout error once its budget is spent (the handler itself runs on). */
function withinDeadline<T>(work: Promise<T>, budgetMs: number, method: string): Promise<T> {
  if (budgetMs > MAX_TIMER_MS) return work;
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new EdgehookError('DEVICE_TIMEOUT', `${method} passed its deadline while running (${budgetMs} ms budget)`)), budgetMs);
  });
  return Promise.race([work, expired]).finally(() => clearTimeout(timer));
}

/**
 * Runs control-plane calls. QoS 1 means a request can arrive twice (redelivery after a
 * reconnect): a request id seen before gets the first run's answer, and runs once.
 */
export class RpcDispatcher {
  private readonly seen = new Map<string, { response: Promise<RpcResponse>; at: number }>();

  constructor(private readonly deps: { deviceId: string; handlers: RpcHandlers; log: Logger; now: () => number; publish: (topic: string, payload: Buffer) => Promise<void> }) {}

  /** Handles one message on the device's rpc/req topic. */
  handle(topic: string, payload: Buffer): void {
    const matched = matchTopic(topic);
    const replyTo = matched?.params['replyTo'];
    if (matched?.name !== 'rpcRequest' || !replyTo) return;
    const decoded = decodeJson(RpcRequest, payload);
    if (!decoded.ok) {
      this.deps.log.warn('malformed rpc request ignored', { topic, error: decoded.error });
      return;
    }
    const req = decoded.value;
    const now = this.deps.now();
    this.forgetOld(now);
    let entry = this.seen.get(req.id);
    if (!entry) {
      entry = { response: this.run(req), at: now };
      this.seen.set(req.id, entry);
    }
    entry.response
      .then((response) => this.deps.publish(topicFor('rpcResponse', { deviceId: this.deps.deviceId, replyTo, requestId: req.id }), encodeJson(response)))
      .catch((err: unknown) => this.deps.log.warn('could not send rpc response', { id: req.id, method: req.method, err }));
  }

  private async run(req: RpcRequest): Promise<RpcResponse> {
    try {
      // The caller gave up at `deadline` (its clock; the device's must be close, as TLS needs too):
      // work that arrives later (a redelivery after a reconnect) is not started, and an answer that
      // would come later is replaced by the timeout the caller already reported.
      const budgetMs = req.deadline - this.deps.now();
      if (budgetMs <= 0) {
        this.deps.log.warn('rpc request arrived after its deadline; not run', { id: req.id, method: req.method, lateMs: -budgetMs });
        throw new EdgehookError('DEVICE_TIMEOUT', `${req.method} arrived ${-budgetMs} ms after its deadline and was not run (a late redelivery, or the device clock is ahead)`);
      }
      if (!isRpcMethod(req.method)) throw new EdgehookError('UNKNOWN_METHOD', `unknown method ${req.method}`);
      const result = await withinDeadline(this.invoke(req.method, req.params), budgetMs, req.method);
      return { id: req.id, ok: true, result };
    } catch (err) {
      if (err instanceof EdgehookError) return { id: req.id, ok: false, error: err.toJSON() };
      this.deps.log.error('rpc handler failed', { method: req.method, err });
      return { id: req.id, ok: false, error: { code: 'INTERNAL', message: err instanceof Error ? err.message : String(err) } };
    }
  }

  private async invoke<M extends RpcMethod>(method: M, rawParams: unknown): Promise<RpcResult<M>> {
    const handler: RpcHandler<M> | undefined = this.deps.handlers[method];
    if (!handler) throw new EdgehookError('UNKNOWN_METHOD', `this agent does not support ${method}`);
    const params = validate(RpcMethods[method].params, rawParams);
    if (!params.ok) throw new EdgehookError('BAD_REQUEST', `invalid params for ${method}: ${params.error}`);
    return handler(params.value);
  }

  private forgetOld(now: number): void {
    for (const [id, entry] of this.seen) {
      if (this.seen.size <= REMEMBER_MAX && now - entry.at < REMEMBER_MS) break;
      this.seen.delete(id);
    }
  }
}
