import { EdgehookError, type RpcMethod } from '@edgehook/shared';
import type { LinkState, Transport } from '@edgehook/shared/transport';
import type { RpcHandler, RpcHandlers } from './devices/rpc.dispatcher.js';
import type { StreamKindName } from '@edgehook/shared';
import type { StreamKind, StreamKindImpls } from './streams/stream-host.js';

/**
 * What every agent capability (hardware, processes, pty, containers, telemetry) hands `runAgent`:
 * its RPC handlers, its stream kinds and how to close it. runAgent composes a list of them, so
 * its `stop()` cannot forget one.
 */
export interface Capability {
  readonly name: string;
  readonly handlers: RpcHandlers;
  readonly streamKinds: StreamKindImpls;
  /** Each (re)connected device link, for capabilities that publish (telemetry, hardware state). */
  attach?(link: { transport: Transport; deviceId: string }): void;
  /** The device link's state changes (hardware releases held keys when it drops). */
  onLinkState?(state: LinkState): void;
  close(): void | Promise<void>;
}

/** Starts one capability; runAgent calls these in order. */
export type CapabilityStart = () => Promise<Capability>;

/**
 * Closes every capability, the last started first; one that fails to close does not keep the
 * others open. The first failure is thrown once all were tried.
 */
export async function closeCapabilities(caps: readonly Capability[]): Promise<void> {
  let first: { err: unknown } | undefined;
  for (const cap of [...caps].reverse()) {
    try {
      await cap.close();
    } catch (err) {
      first ??= { err };
    }
  }
  if (first) throw first.err;
}

/** Starts the capabilities in order; when one fails, those already started are closed before the error goes on. */
export async function startCapabilities(starts: readonly CapabilityStart[]): Promise<Capability[]> {
  const started: Capability[] = [];
  for (const start of starts) {
    try {
      started.push(await start());
    } catch (err) {
      await closeCapabilities(started).catch(() => undefined);
      throw err;
    }
  }
  return started;
}

/** Every capability's handlers as one table; a method claimed twice is a wiring mistake. */
export function mergeHandlers(caps: readonly Capability[]): RpcHandlers {
  const all: RpcHandlers = {};
  for (const cap of caps) {
    for (const method of Object.keys(cap.handlers)) {
      if (Object.hasOwn(all, method)) throw new Error(`RPC method ${method} is claimed by two capabilities (${cap.name})`);
    }
    Object.assign(all, cap.handlers);
  }
  return all;
}

function forward<M extends RpcMethod>(method: M, load: () => Promise<Capability>): RpcHandler<M> {
  return async (params) => {
    const handler: RpcHandler<M> | undefined = (await load()).handlers[method];
    if (!handler) throw new EdgehookError('UNKNOWN_METHOD', `this agent does not support ${method}`);
    return handler(params);
  };
}

/**
 * A capability whose modules load on its first RPC or stream rather than at start (issue 12's lean
 * agent: the idle agent does not pay for code it has not used). Its method and stream-kind names
 * come from the shared maps, so nothing heavy is imported to declare them.
 */
export function loadedOnFirstUse(spec: { name: string; methods: readonly RpcMethod[]; streamKinds: readonly StreamKindName[]; load: () => Promise<Capability> }): Capability {
  let loading: Promise<Capability> | undefined;
  let closed = false;
  const load = (): Promise<Capability> => {
    if (closed) return Promise.reject(new EdgehookError('DEVICE_OFFLINE', `the agent is stopping (${spec.name})`));
    // A failed load (a missing optional module) is tried again on the next use.
    loading ??= spec.load().catch((err: unknown) => {
      loading = undefined;
      throw err;
    });
    return loading;
  };
  const handlers: RpcHandlers = {};
  for (const method of spec.methods) Object.assign(handlers, { [method]: forward(method, load) });
  const streamKinds: StreamKindImpls = {};
  const forwardKind = <K extends StreamKindName>(kind: K): void => {
    const forwarder: StreamKind<K> = {
      open: async (openSpec, stream) => {
        const impl = (await load()).streamKinds[kind];
        if (!impl) throw new EdgehookError('UNKNOWN_METHOD', `this agent does not support ${kind} streams`);
        return impl.open(openSpec, stream);
      },
    };
    // A mapped type cannot be written through a generic key; the forwarder is typed for its kind above.
    Object.assign(streamKinds, { [kind]: forwarder });
  };
  for (const kind of spec.streamKinds) forwardKind(kind);
  return {
    name: spec.name,
    handlers,
    streamKinds,
    async close() {
      closed = true;
      const running = await loading?.catch(() => undefined);
      await running?.close();
    },
  };
}
