import {
  AckBatcher,
  decodeJson,
  EdgehookError,
  encodeJson,
  filterFor,
  matchTopic,
  monotonicMs,
  STREAM_KEEPALIVE_MS,
  STREAM_SILENCE_MS,
  STREAM_WINDOW_DEFAULT,
  PikvmErrorDetails,
  validate,
  StreamCmd,
  streamKindParsers,
  isStreamKindName,
  topicFor,
  type Clock,
  type Logger,
  type StreamKindName,
  type StreamOpenedInfo,
  type StreamSpec,
  type StreamCtl,
  type StreamResult,
} from '@edgehook/shared';
import type { Transport } from '@edgehook/shared/transport';
import { Outbound } from './outbound.js';

/** Commands a kind reacts to after opening (open and ack are the host's business). */
export type StreamCommand = Exclude<StreamCmd, { type: 'open' } | { type: 'ack' } | { type: 'keepalive' }>;

/** One open stream, as a capability (pty, process, console) sees it. */
export interface AgentStream {
  readonly id: string;
  /** False when the source should pause until `onDrain`. */
  write(data: Buffer, channel?: number): boolean;
  onDrain(listener: () => void): () => void;
  /** Input bytes; call `done` once they are consumed (written), which returns credit to the sender. */
  onInput(listener: (data: Buffer, done: () => void) => void): void;
  onCommand(listener: (cmd: StreamCommand) => void): void;
  notice(message: string): void;
  /** Sends the result after all output; the stream is finished afterwards. */
  end(result: StreamResult): void;
  /** Called once when the stream goes away without `end` (link lost, operator detached). */
  onGone(listener: () => void): void;
  readonly finished: boolean;
}

/** One kind of stream (shell, process, console...); its spec and opened info are declared in StreamKinds. */
export interface StreamKind<K extends StreamKindName> {
  /** Starts the work with a spec the host has validated; throws EdgehookError for unknown actions... */
  open(spec: StreamSpec<K>, stream: AgentStream): Promise<StreamOpenedInfo<K>>;
}

/** Kinds a capability provides, keyed by their StreamKinds name. */
export type StreamKindImpls = { [K in StreamKindName]?: StreamKind<K> };

type OpenKind = (spec: unknown, stream: AgentStream) => Promise<Record<string, unknown>>;

interface Entry {
  stream: HostedStream;
}

class HostedStream implements AgentStream {
  readonly out: Outbound;
  private inputListener: ((data: Buffer, done: () => void) => void) | undefined;
  private commandListener: ((cmd: StreamCommand) => void) | undefined;
  private goneListeners: Array<() => void> = [];
  // The control plane sends input under STREAM_WINDOW_DEFAULT (its relay's input window).
  private readonly acks = new AckBatcher((bytes) => {
    if (!this.finished) this.sendCtl({ type: 'ack', bytes });
  }, STREAM_WINDOW_DEFAULT);
  private inputReceived = 0;
  private deferredCloseInput: { sent: number; cmd: StreamCommand } | undefined;
  finished = false;
  /** When the control plane was last heard from on this stream (monotonic ms, the host's clock). */
  lastHeard = 0;

  constructor(
    readonly id: string,
    window: number,
    private readonly sendData: (payload: Buffer) => void,
    private readonly sendCtl: (msg: StreamCtl) => void,
    private readonly onFinished: () => void,
  ) {
    this.out = new Outbound(window, sendData);
  }

  write(data: Buffer, channel = 1): boolean {
    if (this.finished) return true;
    return this.out.write(data, channel);
  }
  onDrain(listener: () => void): () => void {
    return this.out.onDrain(listener);
  }
  onInput(listener: (data: Buffer, done: () => void) => void): void {
    this.inputListener = listener;
  }
  onCommand(listener: (cmd: StreamCommand) => void): void {
    this.commandListener = listener;
  }
  onGone(listener: () => void): void {
    this.goneListeners.push(listener);
  }
  notice(message: string): void {
    if (!this.finished) this.sendCtl({ type: 'notice', message });
  }
  end(result: StreamResult): void {
    if (this.finished) return;
    this.finished = true;
    void this.out.whenFlushed().then(() => {
      this.sendCtl({ type: 'end', result, sent: this.out.sent });
      this.out.stop();
      this.onFinished();
    });
  }

  /** @internal */
  input(data: Buffer): void {
    this.inputReceived += data.length;
    const listener = this.inputListener;
    const deferred = this.deferredCloseInput;
    if (deferred && this.inputReceived >= deferred.sent) {
      this.deferredCloseInput = undefined;
      queueMicrotask(() => this.commandListener?.(deferred.cmd));
    }
    if (!listener || this.finished) return this.credit(data.length);
    listener(data, () => this.credit(data.length));
  }

  /** @internal */
  command(cmd: StreamCommand): void {
    // Input travels at QoS 0 on its own topic: a close must wait for the bytes sent before it.
    if (cmd.type === 'close-input' && cmd.sent !== undefined && cmd.sent > this.inputReceived) {
      this.deferredCloseInput = { sent: cmd.sent, cmd };
      return;
    }
    this.commandListener?.(cmd);
    if (cmd.type === 'detach') this.gone();
  }

  /** @internal The far side is gone: stop sending, tell the kind. */
  gone(): void {
    const ending = this.finished;
    this.finished = true;
    // Also releases an `end` still waiting for credit that will never come.
    this.out.stop();
    if (ending) return;
    this.onFinished();
    for (const l of this.goneListeners) l();
  }

  private credit(bytes: number): void {
    this.acks.add(bytes);
  }
}

/**
 * The agent's end of the stream mechanism: listens for `open` commands, runs the named kind,
 * and carries bytes and control both ways with flow control. Capabilities register a kind.
 */
export class StreamHost {
  private readonly kinds = new Map<string, OpenKind>();
  private readonly streams = new Map<string, Entry>();
  private detachLink: Array<() => void> = [];
  private readonly sweeper: NodeJS.Timeout;
  private readonly monotonic: () => number;

  constructor(
    private readonly log: Logger,
    timing: { silenceMs?: number; sweepEveryMs?: number; clock?: Pick<Clock, 'monotonic'> } = {},
  ) {
    this.monotonic = timing.clock?.monotonic ?? monotonicMs;
    const silenceMs = timing.silenceMs ?? STREAM_SILENCE_MS;
    // A control-plane instance that died cannot say detach: silence past the keepalive means gone.
    this.sweeper = setInterval(() => {
      const now = this.monotonic();
      for (const { stream } of [...this.streams.values()]) {
        if (now - stream.lastHeard > silenceMs) {
          this.log.warn('stream silent; treating the operator as gone', { streamId: stream.id });
          stream.gone();
        }
      }
    }, timing.sweepEveryMs ?? STREAM_KEEPALIVE_MS);
    this.sweeper.unref();
  }

  /** The spec is validated with the kind's schema before `impl.open` sees it. */
  register<K extends StreamKindName>(kind: K, impl: StreamKind<K>): void {
    const def = streamKindParsers[kind];
    // Not async: a valid spec reaches the kind in the same turn, as before the map existed.
    this.kinds.set(kind, (raw, stream) => {
      const spec = def.parseSpec(raw);
      if (!spec.ok) return Promise.reject(new EdgehookError('BAD_REQUEST', `invalid ${def.invalid}: ${spec.error}`, def.pikvmError ? { pikvmError: def.pikvmError } : undefined));
      return impl.open(spec.value, stream);
    });
  }

  registerAll(impls: StreamKindImpls): void {
    const one = <K extends StreamKindName>(kind: K): void => {
      const impl = impls[kind];
      if (impl) this.register(kind, impl);
    };
    for (const kind of Object.keys(impls).filter(isStreamKindName)) one(kind);
  }

  get openCount(): number {
    return this.streams.size;
  }

  /** Binds to a (new) device link. Streams of a previous link are gone. */
  async attach(transport: Transport, deviceId: string): Promise<void> {
    for (const off of this.detachLink) off();
    this.detachLink = [];
    this.dropAll();
    const offState = transport.onState((s) => {
      // Without the link nobody reads our output or sends input: end every stream's binding.
      if (s.state === 'disconnected') this.dropAll();
    });
    const unCmd = await transport.subscribe(filterFor('streamCmd', { deviceId }), (topic, payload) => this.onCmd(transport, deviceId, topic, payload), { qos: 1 });
    const unIn = await transport.subscribe(filterFor('streamInput', { deviceId }), (topic, payload) => this.onInput(topic, payload), { qos: 0 });
    this.detachLink.push(offState, () => void unCmd().catch(() => undefined), () => void unIn().catch(() => undefined));
  }

  /** Ends every binding (shutdown). */
  dropAll(): void {
    for (const { stream } of [...this.streams.values()]) stream.gone();
    this.streams.clear();
  }

  private key(cp: string, streamId: string): string {
    return `${cp}/${streamId}`;
  }

  private onInput(topic: string, payload: Buffer): void {
    const m = matchTopic(topic);
    if (m?.name !== 'streamInput') return;
    const stream = this.streams.get(this.key(m.params['cp'] ?? '', m.params['streamId'] ?? ''))?.stream;
    if (!stream) return;
    stream.lastHeard = this.monotonic();
    stream.input(payload);
  }

  private onCmd(transport: Transport, deviceId: string, topic: string, payload: Buffer): void {
    const m = matchTopic(topic);
    if (m?.name !== 'streamCmd') return;
    const cp = m.params['cp'] ?? '';
    const streamId = m.params['streamId'] ?? '';
    const decoded = decodeJson(StreamCmd, payload);
    const ctlTopic = topicFor('streamCtl', { deviceId, cp, streamId });
    const sendCtl = (msg: StreamCtl): void => {
      transport.publish(ctlTopic, encodeJson(msg), { qos: msg.type === 'ack' ? 0 : 1 }).catch(() => this.streams.get(this.key(cp, streamId))?.stream.gone());
    };
    if (!decoded.ok) {
      this.log.warn('malformed stream command ignored', { topic, error: decoded.error });
      return;
    }
    const cmd = decoded.value;
    const key = this.key(cp, streamId);
    const existing = this.streams.get(key);
    if (cmd.type === 'open') {
      if (existing) return; // a redelivered open (QoS 1): the stream already runs
      void this.open(transport, deviceId, cp, streamId, cmd.kind, cmd.spec, cmd.window, sendCtl);
      return;
    }
    if (!existing) return;
    existing.stream.lastHeard = this.monotonic();
    if (cmd.type === 'keepalive') return;
    if (cmd.type === 'ack') existing.stream.out.ack(cmd.bytes);
    else existing.stream.command(cmd);
  }

  private async open(transport: Transport, deviceId: string, cp: string, streamId: string, kindName: string, spec: unknown, window: number, sendCtl: (msg: StreamCtl) => void): Promise<void> {
    const kind = this.kinds.get(kindName);
    if (!kind) return sendCtl({ type: 'error', code: 'UNKNOWN_METHOD', message: `this agent has no ${kindName} streams` });
    const key = this.key(cp, streamId);
    const dataTopic = topicFor('streamData', { deviceId, cp, streamId });
    const stream = new HostedStream(
      streamId,
      window,
      (payload) => {
        transport.publish(dataTopic, payload, { qos: 0 }).catch(() => stream.gone());
      },
      sendCtl,
      () => this.streams.delete(key),
    );
    stream.lastHeard = this.monotonic();
    this.streams.set(key, { stream });
    try {
      const info = await kind(spec, stream);
      sendCtl({ type: 'opened', info });
    } catch (err) {
      this.streams.delete(key);
      stream.finished = true;
      stream.out.stop();
      const code = err instanceof EdgehookError ? err.code : 'INTERNAL';
      const message = err instanceof Error ? err.message : String(err);
      if (!(err instanceof EdgehookError)) this.log.error('stream open failed', { kind: kindName, err });
      // kvmd's error class (MsdImageExistsError...) rides along so the PiKVM facade can name it.
      const named = err instanceof EdgehookError ? validate(PikvmErrorDetails, err.details) : undefined;
      sendCtl({ type: 'error', code, message, ...(named?.ok ? { pikvmError: named.value.pikvmError } : {}) });
    }
  }
}
