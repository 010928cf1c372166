import { randomBytes } from 'node:crypto';
import {
  AckBatcher,
  decodeJson,
  EdgehookError,
  encodeJson,
  filterFor,
  isErrorCode,
  matchTopic,
  STREAM_CHUNK_MAX,
  STREAM_KEEPALIVE_MS,
  STREAM_WINDOW_DEFAULT,
  StreamCtl,
  streamKindParsers,
  topicFor,
  type Logger,
  type StreamCmd,
  type StreamKindName,
  type StreamOpenedInfo,
  type StreamResult,
  type StreamSpecInput,
} from '@edgehook/shared';
import type { Transport } from '@edgehook/shared/transport';
import type { FleetEvents } from '../events/fleet-events.js';

export interface RelayStreamHandlers {
  /** Output bytes; call `stream.consumed(data.length)` once they have left (credit for more). */
  onData(data: Buffer, channel: number): void;
  onNotice?(message: string): void;
  /** The work ended; all output was delivered before. */
  onEnd(result: StreamResult): void;
  /** The stream failed (device offline, refused, timed out); no `onEnd` follows. */
  onError(err: EdgehookError): void;
}

/** How long a device has to answer `open`. */
const OPEN_TIMEOUT_MS = 10_000;
/** After `end`, how long to wait for data still in flight. */
const TAIL_WAIT_MS = 2000;

/**
 * The control plane's end of one device stream. Output arrives with credit-based flow control
 * (the device stops at `window` unacknowledged bytes); input is sent under the device's credit.
 */
export class RelayStream<K extends StreamKindName = StreamKindName> {
  readonly id = randomBytes(12).toString('base64url');
  private state: 'opening' | 'open' | 'done' = 'opening';
  private received = 0;
  // Output comes under the window this relay asks for in `open`.
  private readonly acks = new AckBatcher((bytes) => {
    if (this.state !== 'done') this.command({ type: 'ack', bytes });
  }, STREAM_WINDOW_DEFAULT);
  private inputSent = 0;
  private inputInflight = 0;
  private readonly inputWindow = STREAM_WINDOW_DEFAULT;
  private inputBlocked = false;
  private writableListeners: Array<() => void> = [];
  /** Input and commands issued before the device answered `open`, in order. */
  private early: Array<Buffer | StreamCmd> = [];
  /** The operator left while the device was still opening: detach as soon as it answers. */
  private abandoned = false;
  private pendingEnd: { result: StreamResult; sent: number; timer: NodeJS.Timeout } | undefined;
  private openTimer: NodeJS.Timeout | undefined;
  private resolveOpened!: (info: StreamOpenedInfo<K> | undefined) => void;
  private rejectOpened!: (err: EdgehookError) => void;
  /**
   * Resolves with the kind's info (pid, session id) once the device started the work; undefined
   * when the work ended before the device said it opened.
   */
  readonly opened: Promise<StreamOpenedInfo<K> | undefined>;

  constructor(
    readonly deviceId: string,
    readonly kind: K,
    private readonly relay: StreamRelay,
    private readonly handlers: RelayStreamHandlers,
  ) {
    this.opened = new Promise((resolve, reject) => {
      this.resolveOpened = resolve;
      this.rejectOpened = reject;
    });
    this.opened.catch(() => undefined);
  }

  get done(): boolean {
    return this.state === 'done';
  }

  /** @internal */
  start(spec: StreamSpecInput<K>): void {
    this.openTimer = setTimeout(() => this.fail(new EdgehookError('DEVICE_TIMEOUT', `the device did not start the ${this.kind} within ${OPEN_TIMEOUT_MS / 1000} s`)), OPEN_TIMEOUT_MS);
    this.command({ type: 'open', kind: this.kind, spec, window: STREAM_WINDOW_DEFAULT });
  }

  /** Sends input; false when the device's credit is used up (wait for `onWritable`). */
  write(data: Buffer): boolean {
    if (this.state === 'done') return false;
    if (this.state === 'opening') {
      // Typed ahead of the device's answer: kept (under the same window) and sent once it runs.
      this.early.push(data);
      this.inputInflight += data.length;
      this.inputSent += data.length;
      return this.hasCredit();
    }
    for (let off = 0; off < data.length; off += STREAM_CHUNK_MAX) {
      const part = data.subarray(off, off + STREAM_CHUNK_MAX);
      this.inputSent += part.length;
      this.inputInflight += part.length;
      this.relay.publishInput(this, part);
    }
    return this.hasCredit();
  }

  /** False marks the writer blocked until half the window is free again (see `ack`). */
  private hasCredit(): boolean {
    if (this.inputInflight < this.inputWindow) return true;
    this.inputBlocked = true;
    return false;
  }

  /** Called once, when credit is back. */
  onWritable(listener: () => void): void {
    this.writableListeners.push(listener);
  }

  resize(cols: number, rows: number): void {
    this.command({ type: 'resize', cols, rows });
  }
  closeInput(): void {
    this.command({ type: 'close-input', sent: this.inputSent });
  }
  cancel(): void {
    this.command({ type: 'cancel' });
  }
  /** The operator left: the device detaches (pty) or cancels (process). Local state is dropped. */
  detach(): void {
    if (this.state === 'done') return;
    if (this.state === 'opening') {
      // A detach that overtook the open would be ignored and leave the work orphaned on the device.
      this.abandoned = true;
      return;
    }
    this.command({ type: 'detach' });
    this.finish();
  }

  /** Returns credit for output the consumer has passed on. */
  consumed(bytes: number): void {
    if (this.state !== 'done') this.acks.add(bytes);
  }

  private command(cmd: StreamCmd): void {
    if (this.state === 'opening' && cmd.type !== 'open') {
      this.early.push(cmd);
      return;
    }
    this.relay.publishCmd(this, cmd).catch((err: unknown) => this.fail(new EdgehookError('DEVICE_OFFLINE', `cannot reach the broker: ${err instanceof Error ? err.message : String(err)}`)));
  }

  /** @internal Tells the device this instance still holds the stream. */
  keepalive(): void {
    if (this.state === 'open') this.command({ type: 'keepalive' });
  }

  /** @internal */
  data(payload: Buffer): void {
    if (this.state === 'done' || payload.length < 1) return;
    const channel = payload[0] ?? 1;
    const data = payload.subarray(1);
    this.received += data.length;
    this.handlers.onData(data, channel);
    if (this.pendingEnd && this.received >= this.pendingEnd.sent) this.deliverEnd();
  }

  /** @internal */
  control(msg: StreamCtl): void {
    if (this.state === 'done') return;
    switch (msg.type) {
      case 'opened': {
        if (this.state !== 'opening') return;
        const info = streamKindParsers[this.kind].parseOpened(msg.info);
        if (!info.ok) {
          // The work may run on the device: tell it we are gone before failing here.
          this.relay.publishCmd(this, { type: 'cancel' }).catch(() => undefined);
          return this.fail(new EdgehookError('INTERNAL', `the device answered the ${this.kind} open with an invalid info: ${info.error}`));
        }
        clearTimeout(this.openTimer);
        this.state = 'open';
        if (this.abandoned) {
          this.rejectOpened(new EdgehookError('BAD_REQUEST', 'the operator left before the device answered'));
          return this.detach();
        }
        this.flushEarly();
        this.resolveOpened(info.value);
        return;
      }
      case 'error':
        return this.fail(new EdgehookError(isErrorCode(msg.code) ? msg.code : 'INTERNAL', msg.message, msg.pikvmError ? { pikvmError: msg.pikvmError } : undefined));
      case 'ack': {
        this.inputInflight = Math.max(0, this.inputInflight - msg.bytes);
        // A blocked writer wakes at half the window (a low-water mark), not at the first byte of
        // credit: waking per ack would pause and resume the operator's socket for every chunk.
        if (this.inputBlocked && this.inputInflight <= this.inputWindow / 2) {
          this.inputBlocked = false;
          const listeners = this.writableListeners;
          this.writableListeners = [];
          for (const l of listeners) l();
        }
        return;
      }
      case 'notice':
        this.handlers.onNotice?.(msg.message);
        return;
      case 'end':
        clearTimeout(this.openTimer);
        if (this.state === 'opening') {
          this.state = 'open';
          this.resolveOpened(undefined);
        }
        this.pendingEnd = { result: msg.result, sent: msg.sent, timer: setTimeout(() => this.deliverEnd(), TAIL_WAIT_MS) };
        if (this.received >= msg.sent) this.deliverEnd();
        return;
    }
  }

  private flushEarly(): void {
    const early = this.early;
    this.early = [];
    for (const item of early) {
      if (!Buffer.isBuffer(item)) {
        this.command(item);
        continue;
      }
      this.inputInflight -= item.length;
      this.inputSent -= item.length;
      this.write(item);
    }
  }

  private deliverEnd(): void {
    const end = this.pendingEnd;
    if (!end || this.state === 'done') return;
    clearTimeout(end.timer);
    this.finish();
    this.handlers.onEnd(end.result);
  }

  /** @internal */
  fail(err: EdgehookError): void {
    if (this.state === 'done') return;
    const wasOpening = this.state === 'opening';
    this.finish();
    if (wasOpening) this.rejectOpened(err);
    if (!this.abandoned) this.handlers.onError(err);
  }

  private finish(): void {
    this.state = 'done';
    clearTimeout(this.openTimer);
    if (this.pendingEnd) clearTimeout(this.pendingEnd.timer);
    this.writableListeners = [];
    this.early = [];
    this.relay.forget(this);
  }
}

/**
 * Routes stream traffic between devices and this control-plane instance. Device topics carry this
 * instance's id, so with several replicas each receives only its own streams' bytes.
 */
export class StreamRelay {
  private readonly streams = new Map<string, RelayStream<StreamKindName>>();
  private keepalive: NodeJS.Timeout | undefined;

  constructor(private readonly deps: { transport: Transport; instanceId: string; events: FleetEvents; log: Logger; streamsUnsupported?: (deviceId: string) => string | undefined }) {}

  get openCount(): number {
    return this.streams.size;
  }

  async start(): Promise<void> {
    const cp = this.deps.instanceId;
    await this.deps.transport.subscribe(filterFor('streamData', { cp }), (topic, payload) => {
      const m = matchTopic(topic);
      if (m?.name !== 'streamData') return;
      const s = this.streams.get(m.params['streamId'] ?? '');
      if (s && s.deviceId === m.params['deviceId']) s.data(payload);
    }, { qos: 0 });
    await this.deps.transport.subscribe(filterFor('streamCtl', { cp }), (topic, payload) => {
      const m = matchTopic(topic);
      if (m?.name !== 'streamCtl') return;
      const s = this.streams.get(m.params['streamId'] ?? '');
      if (!s || s.deviceId !== m.params['deviceId']) return;
      const decoded = decodeJson(StreamCtl, payload);
      if (decoded.ok) s.control(decoded.value);
      else this.deps.log.warn('malformed stream control message', { topic, error: decoded.error });
    }, { qos: 1 });
    this.keepalive = setInterval(() => {
      for (const s of this.streams.values()) s.keepalive();
    }, STREAM_KEEPALIVE_MS);
    this.keepalive.unref();
    // A device that drops off ends its streams with a clear error instead of a silent hang.
    this.deps.events.subscribe((event) => {
      if (event.type !== 'device.offline' && event.type !== 'device.deleted') return;
      for (const s of [...this.streams.values()]) {
        if (s.deviceId === event.deviceId) s.fail(new EdgehookError('DEVICE_OFFLINE', 'the device went offline'));
      }
    });
  }

  /** Asks the device to start `kind` with `spec`; watch `stream.opened` for the answer. */
  open<K extends StreamKindName>(deviceId: string, kind: K, spec: StreamSpecInput<K>, handlers: RelayStreamHandlers): RelayStream<K> {
    const stream = new RelayStream(deviceId, kind, this, handlers);
    this.streams.set(stream.id, stream);
    // A device without byte streams (a Quix WSI backend) says so at once instead of timing out.
    const unsupported = this.deps.streamsUnsupported?.(deviceId);
    if (unsupported !== undefined) queueMicrotask(() => stream.fail(new EdgehookError('UNKNOWN_METHOD', `${kind}: ${unsupported}`)));
    else stream.start(spec);
    return stream;
  }

  /** Fails every stream (shutdown). */
  closeAll(reason: string): void {
    clearInterval(this.keepalive);
    for (const s of [...this.streams.values()]) s.fail(new EdgehookError('DEVICE_OFFLINE', reason));
  }

  /** @internal */
  forget(stream: RelayStream): void {
    this.streams.delete(stream.id);
  }

  /** Topics per stream, built once: a keystroke should not rebuild its topic. */
  private readonly topics = new WeakMap<RelayStream, { cmd: string; input: string }>();
  private topicsOf(stream: RelayStream): { cmd: string; input: string } {
    let t = this.topics.get(stream);
    if (!t) {
      const params = { deviceId: stream.deviceId, cp: this.deps.instanceId, streamId: stream.id };
      t = { cmd: topicFor('streamCmd', params), input: topicFor('streamInput', params) };
      this.topics.set(stream, t);
    }
    return t;
  }

  /** @internal */
  publishCmd(stream: RelayStream, cmd: StreamCmd): Promise<void> {
    // Only `open` is QoS 1. Everything after it goes at QoS 0 like the input bytes, so the broker
    // keeps one order for keys, resizes, close and cancel (QoS 1 takes a slower path and could be
    // overtaken); a stream does not outlive its connection anyway.
    return this.deps.transport.publish(this.topicsOf(stream).cmd, encodeJson(cmd), { qos: cmd.type === 'open' ? 1 : 0 });
  }

  /** @internal */
  publishInput(stream: RelayStream, data: Buffer): void {
    this.deps.transport
      .publish(this.topicsOf(stream).input, data, { qos: 0 })
      .catch((err: unknown) => stream.fail(new EdgehookError('DEVICE_OFFLINE', `cannot reach the broker: ${err instanceof Error ? err.message : String(err)}`)));
  }
}
