import * as z from '../zod.js';
import { validate, type Decoded } from '../codec.js';
import { ConsoleSpec, ContainerStreamKinds, FileReadSpec, FileWriteSpec, LogsStreamSpec, StatsStreamSpec } from './containers.js';
import { SerialOpenSpec } from './hardware.js';
import { KvmStreamKinds, MsdDownloadSpec, MsdReadSpec, MsdWriteSpec, VideoOpenSpec } from './kvm-media.js';
import { PerfkitImageOpened, PerfkitImageSpec, PerfkitStreamKinds } from './perfkit.js';
import { ForwardOpened, ForwardSpec } from './forward.js';

/**
 * Device <-> control-plane byte streams (shells, processes, later serial and container consoles).
 *
 * Data travels as raw MQTT payloads on the `streamData` (device->cp) and `streamInput` (cp->device)
 * topics; control travels as JSON on `streamCmd` (cp->device) and `streamCtl` (device->cp).
 * Device->cp data payloads start with one channel byte (see StreamChannel), so a process can keep
 * stdout and stderr apart without JSON or base64 per chunk. Input payloads are raw bytes.
 *
 * Flow control is credit based in both directions: a sender never has more than `window` bytes
 * unacknowledged; the receiver acks bytes once they have left its hands (written to the pty or
 * the process, or handed to the operator's websocket and flushed).
 */
export const StreamChannel = { stdout: 1, stderr: 2 } as const;

export const STREAM_ID = /^[A-Za-z0-9_-]{8,64}$/;
export const StreamId = z.string().check(z.regex(STREAM_ID, 'must be 8-64 letters, digits, _ or -'));

/** Largest data payload either side sends in one MQTT message. */
export const STREAM_CHUNK_MAX = 64 * 1024;
export const STREAM_WINDOW_DEFAULT = 512 * 1024;
export const STREAM_KEEPALIVE_MS = 20_000;
export const STREAM_SILENCE_MS = 75_000;

export const PtyOpenSpec = z.strictObject({
    cols: z.number().check(z.int(), z.gte(1), z.lte(1000)),
    rows: z.number().check(z.int(), z.gte(1), z.lte(1000)),
    /** Absolute path of a shell listed in /etc/shells; the agent's default when absent. */
    shell: z.optional(z.string().check(z.minLength(1), z.maxLength(256))),
    /** Reattach to a detached session instead of starting a new one; its scrollback is replayed. */
    attach: z.optional(z.string().check(z.minLength(1), z.maxLength(64))),
  });
export type PtyOpenSpec = z.infer<typeof PtyOpenSpec>;

/** A server-defined process (pow-1 `call`) or an arbitrary argv (Quix `execute`). */
export const ProcessOpenSpec = z.union([
  z.strictObject({ call: z.string().check(z.minLength(1), z.maxLength(128)), params: z._default(z.array(z.string().check(z.maxLength(65536))).check(z.maxLength(256)), []) }),
  z.strictObject({
      argv: z.array(z.string().check(z.maxLength(65536))).check(z.minLength(1), z.maxLength(1024)),
      cwd: z.optional(z.string().check(z.maxLength(4096))),
      env: z.optional(z.record(z.string(), z.string())),
    }),
]);
export type ProcessOpenSpec = z.infer<typeof ProcessOpenSpec>;

/** What the agent answers in `opened`, per kind. */
export const PtyOpened = z.object({ sessionId: z.string().check(z.minLength(1), z.maxLength(64)), pid: z.number().check(z.int()), reattached: z.boolean() });
export const ProcessOpened = z.object({ id: z.string().check(z.minLength(1), z.maxLength(64)), pid: z.number().check(z.int()) });
export const SerialOpened = z.object({ port: z.string(), path: z.string(), baud: z.number().check(z.int(), z.positive()) });
export const VideoOpened = z.union([z.object({ snapshot: z.literal(true) }), z.object({ hold: z.literal(true) }), z.object({ live: z.literal(true) })]);
export const MsdWriteOpened = z.object({ image: z.string() });
export const MsdDownloadOpened = z.object({ image: z.string(), size: z.number().check(z.int(), z.nonnegative()) });
export const MsdReadOpened = z.object({ image: z.string(), size: z.number().check(z.int(), z.nonnegative()) });
export const ContainerConsoleOpened = z.object({ id: z.string(), name: z.string(), tty: z.boolean() });
export const ContainerOpened = z.object({ id: z.string(), name: z.string() });
export const FileReadOpened = z.object({ size: z.number().check(z.int(), z.nonnegative()) });
export const FileWriteOpened = z.object({ path: z.string() });

/** One stream kind: its schemas, and parsers typed by them (see StreamKindParsers). */
function streamKind<S extends z.ZodMiniType, O extends z.ZodMiniType>(def: {
  /** What the agent validates before the kind opens. */
  spec: S;
  /** The `info` of `opened`. */
  opened: O;
  /** Names the spec in the error for a bad one: "invalid <invalid>: ...". */
  invalid: string;
  /** kvmd's error class for a bad spec, for the PiKVM facade. */
  pikvmError?: string;
}) {
  return { ...def, parseSpec: (raw: unknown) => validate(def.spec, raw), parseOpened: (raw: unknown) => validate(def.opened, raw) };
}

/**
 * Every stream kind, declared once (as `RpcMethods` for RPCs): the agent's stream host validates
 * `spec` before the kind opens, the control plane's `relay.open(deviceId, kind, spec)` is typed by
 * it and reads `opened` typed.
 */
export const StreamKinds = {
  pty: streamKind({ spec: PtyOpenSpec, opened: PtyOpened, invalid: 'shell request' }),
  process: streamKind({ spec: ProcessOpenSpec, opened: ProcessOpened, invalid: 'process request' }),
  serial: streamKind({ spec: SerialOpenSpec, opened: SerialOpened, invalid: 'serial spec' }),
  [KvmStreamKinds.video]: streamKind({ spec: VideoOpenSpec, opened: VideoOpened, invalid: 'video spec' }),
  [KvmStreamKinds.msdWrite]: streamKind({ spec: MsdWriteSpec, opened: MsdWriteOpened, invalid: 'msd write' }),
  [KvmStreamKinds.msdDownload]: streamKind({ spec: MsdDownloadSpec, opened: MsdDownloadOpened, invalid: 'msd download', pikvmError: 'ValidatorError' }),
  [KvmStreamKinds.msdRead]: streamKind({ spec: MsdReadSpec, opened: MsdReadOpened, invalid: 'msd read', pikvmError: 'ValidatorError' }),
  // A session's latest image, framed as kvm-video frames (the same relay path on the control plane).
  [PerfkitStreamKinds.image]: streamKind({ spec: PerfkitImageSpec, opened: PerfkitImageOpened, invalid: 'image request' }),
  [ContainerStreamKinds.console]: streamKind({ spec: ConsoleSpec, opened: ContainerConsoleOpened, invalid: 'console spec' }),
  [ContainerStreamKinds.logs]: streamKind({ spec: LogsStreamSpec, opened: ContainerOpened, invalid: 'logs spec' }),
  [ContainerStreamKinds.stats]: streamKind({ spec: StatsStreamSpec, opened: ContainerOpened, invalid: 'stats spec' }),
  [ContainerStreamKinds.fileRead]: streamKind({ spec: FileReadSpec, opened: FileReadOpened, invalid: 'file read spec' }),
  [ContainerStreamKinds.fileWrite]: streamKind({ spec: FileWriteSpec, opened: FileWriteOpened, invalid: 'file write spec' }),
  'tcp-forward': streamKind({ spec: ForwardSpec, opened: ForwardOpened, invalid: 'forward destination' }),
} as const;
export type StreamKindName = keyof typeof StreamKinds;
/** A spec as the caller writes it (defaults may be left out). */
export type StreamSpecInput<K extends StreamKindName> = z.input<(typeof StreamKinds)[K]['spec']>;
/** A spec as the kind receives it, validated (defaults filled in). */
export type StreamSpec<K extends StreamKindName> = z.output<(typeof StreamKinds)[K]['spec']>;
export type StreamOpenedInfo<K extends StreamKindName> = z.output<(typeof StreamKinds)[K]['opened']>;

/**
 * The map's parsers as one mapped type, so code generic over a kind `K` (the stream host, the
 * relay) gets `StreamSpec<K>` out of `StreamKindParsers[K]` without a cast.
 */
export type StreamKindParsers = {
  [K in StreamKindName]: {
    readonly invalid: string;
    readonly pikvmError?: string;
    parseSpec(raw: unknown): Decoded<StreamSpec<K>>;
    parseOpened(raw: unknown): Decoded<StreamOpenedInfo<K>>;
  };
};
export const streamKindParsers: StreamKindParsers = StreamKinds;

export function isStreamKindName(name: string): name is StreamKindName {
  return Object.hasOwn(StreamKinds, name);
}

export const StreamOpen = z.object({
  type: z.literal('open'),
  kind: z.string().check(z.minLength(1), z.maxLength(32)),
  spec: z.unknown(),
  /** Bytes the device may send before the first ack. */
  window: z.number().check(z.int(), z.gte(1024), z.lte(64 * 1024 * 1024)),
});

/** cp -> device control. */
export const StreamCmd = z.discriminatedUnion('type', [
  StreamOpen,
  /** Credit for `bytes` more output. */
  z.object({ type: z.literal('ack'), bytes: z.number().check(z.int(), z.positive()) }),
  z.object({ type: z.literal('resize'), cols: z.number().check(z.int(), z.gte(1), z.lte(1000)), rows: z.number().check(z.int(), z.gte(1), z.lte(1000)) }),
  /** `sent`: input bytes sent before it, so the close never overtakes input still in flight. */
  z.object({ type: z.literal('close-input'), sent: z.optional(z.number().check(z.int(), z.nonnegative())) }),
  /** Ends the work (process tree killed, pty closed). */
  z.object({ type: z.literal('cancel') }),
  /** Sent every STREAM_KEEPALIVE_MS while a stream is open: a device that hears nothing for
   *  STREAM_SILENCE_MS assumes the control-plane instance died and treats it as a detach. */
  z.object({ type: z.literal('keepalive') }),
  /** The operator left: a pty stays alive (detached) for a reattach, a process is cancelled. */
  z.object({ type: z.literal('detach') }),
]);
export type StreamCmd = z.infer<typeof StreamCmd>;

export const StreamResult = z.discriminatedUnion('status', [
  z.object({ status: z.literal('fulfilled'), value: z.optional(z.unknown()), exitCode: z.optional(z.nullable(z.number().check(z.int()))), signal: z.optional(z.nullable(z.string())) }),
  z.object({ status: z.literal('rejected'), reason: z.string().check(z.maxLength(4000)), exitCode: z.optional(z.nullable(z.number().check(z.int()))), signal: z.optional(z.nullable(z.string())) }),
]);
export type StreamResult = z.infer<typeof StreamResult>;

/** device -> cp control. */
export const StreamCtl = z.discriminatedUnion('type', [
  /** The work started; `info` is kind-specific (pty session id, process pid). */
  z.object({ type: z.literal('opened'), info: z.record(z.string(), z.unknown()) }),
  /** Opening failed: unknown action, bad params, unknown session... */
  z.object({ type: z.literal('error'), code: z.string().check(z.maxLength(64)), message: z.string().check(z.maxLength(2000)), pikvmError: z.optional(z.string().check(z.maxLength(64))) }),
  /** Credit for `bytes` more input. */
  z.object({ type: z.literal('ack'), bytes: z.number().check(z.int(), z.positive()) }),
  /** Out-of-band notice for the operator (e.g. scrollback truncated). */
  z.object({ type: z.literal('notice'), message: z.string().check(z.maxLength(2000)) }),
  /** Last message of a stream; `sent` counts data bytes (without channel bytes) sent before it. */
  z.object({ type: z.literal('end'), result: StreamResult, sent: z.number().check(z.int(), z.nonnegative()) }),
]);
export type StreamCtl = z.infer<typeof StreamCtl>;

/** Operator -> control plane text frames on `/api/devices/:id/shell` (binary frames are keystrokes). */
export const ShellClientMessage = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('open'),
    cols: z.number().check(z.int(), z.gte(1), z.lte(1000)),
    rows: z.number().check(z.int(), z.gte(1), z.lte(1000)),
    shell: z.optional(z.string().check(z.minLength(1), z.maxLength(256))),
    /** Reattach to this session id (from an earlier `opened`). */
    session: z.optional(z.string().check(z.minLength(1), z.maxLength(64))),
  }),
  z.object({ type: z.literal('resize'), cols: z.number().check(z.int(), z.gte(1), z.lte(1000)), rows: z.number().check(z.int(), z.gte(1), z.lte(1000)) }),
  /** Ends the shell (a socket closed without it leaves the shell detached for a reattach). */
  z.object({ type: z.literal('close') }),
]);
export type ShellClientMessage = z.infer<typeof ShellClientMessage>;

/** Operator -> control plane text frames on `/api/devices/:id/exec` (binary frames are stdin). */
export const ExecClientMessage = z.union([
  z.object({ type: z.literal('open'), call: z.string().check(z.minLength(1), z.maxLength(128)), params: z._default(z.array(z.string().check(z.maxLength(65536))).check(z.maxLength(256)), []) }),
  z.object({ type: z.literal('open'), argv: z.array(z.string().check(z.maxLength(65536))).check(z.minLength(1), z.maxLength(1024)), cwd: z.optional(z.string().check(z.maxLength(4096))), env: z.optional(z.record(z.string(), z.string())) }),
  z.object({ type: z.literal('close-input') }),
  z.object({ type: z.literal('cancel') }),
]);
export type ExecClientMessage = z.infer<typeof ExecClientMessage>;

/** Control plane -> operator text frames on a relayed socket whose `opened` carries `info`. */
function relayServerMessage<I extends z.ZodMiniType>(info: I) {
  return z.discriminatedUnion('type', [
    z.object({ type: z.literal('opened'), info }),
    z.object({ type: z.literal('notice'), message: z.string() }),
    z.object({ type: z.literal('error'), code: z.string(), message: z.string() }),
    z.object({ type: z.literal('end'), result: StreamResult }),
  ]);
}
/** Control plane -> operator text frames on the shell, exec and serial sockets. */
export const RelayServerMessage = relayServerMessage(z.record(z.string(), z.unknown()));
export type RelayServerMessage = z.infer<typeof RelayServerMessage>;
/** The shell socket's frames: `opened` names the session for a reattach. */
export const ShellServerMessage = relayServerMessage(PtyOpened);
export type ShellServerMessage = z.infer<typeof ShellServerMessage>;
/** The serial console socket's frames. */
export const SerialServerMessage = relayServerMessage(SerialOpened);
export type SerialServerMessage = z.infer<typeof SerialServerMessage>;

/** pow-1 binary control frames from the client. */
export const PowCallFrame = z.object({ call: z.string().check(z.minLength(1), z.maxLength(128)), params: z._default(z.array(z.string().check(z.maxLength(65536))).check(z.maxLength(256)), []) });
export const PowSignalFrame = z.object({ signal: z.enum(['close', 'cancel']) });
