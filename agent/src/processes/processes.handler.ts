import { totalmem } from 'node:os';
import { nodeCrypto } from '@edgehook/shared/node-builtins';
import { EdgehookError, PowCancelReasons, type RunningProcess } from '@edgehook/shared';
import type { RpcHandlers } from '../devices/rpc.dispatcher.js';
import type { AgentStream, StreamKind } from '../streams/stream-host.js';
import { groupUsage, listeningSockets, ticksToMs } from './proc-info.js';
import { TailBuffer, type ProcessManager } from './process-manager.js';

/** Finished REST sessions are kept this long for a last `status`. */
const KEEP_FINISHED_MS = 10 * 60_000;
const MAX_REJECTED = 1000;

/**
 * Processes as a stream kind (pow-1 websocket, `edgehook exec`): output flows over the stream with
 * flow control; the operator leaving (detach) cancels the process.
 */
export function processStreamKind(manager: ProcessManager, opts: { allowArbitrary: boolean }): StreamKind<'process'> {
  return {
    async open(spec, stream: AgentStream) {
      if ('argv' in spec && !opts.allowArbitrary) throw new EdgehookError('FORBIDDEN', 'this agent does not run arbitrary commands');
      const resumeListeners: Array<() => void> = [];
      stream.onDrain(() => {
        for (const l of resumeListeners) l();
      });
      const session = await manager.start(spec, {
        write: (data, channel) => stream.write(data, channel),
        onResume: (l) => resumeListeners.push(l),
      });
      stream.onInput((data, done) => session.writeInput(data, done));
      stream.onCommand((cmd) => {
        if (cmd.type === 'close-input') session.closeInput();
        else if (cmd.type === 'cancel') session.cancel(PowCancelReasons.clientRequest);
      });
      stream.onGone(() => session.cancel(PowCancelReasons.clientGone));
      void session.done.then((result) => {
        stream.end(result);
        manager.forget(session.id);
      });
      return { id: session.id, pid: session.pid };
    },
  };
}

/** Cpu % between two looks at the same pid; the first look averages over the process's life. */
const lastSample = new Map<number, { ticks: number; at: number }>();

export function processRpcHandlers(manager: ProcessManager, now: () => number, opts: { allowArbitrary: boolean }): RpcHandlers {
  const buffers = new Map<string, TailBuffer>();
  // REST calls that never started (unknown call, invalid params): an id with a rejected status.
  const rejected = new Map<string, { reason: string; at: number }>();
  const mustFind = (id: string) => {
    const s = manager.find(id);
    if (!s || !buffers.has(id)) throw new EdgehookError('NOT_FOUND', `process ${id} not found`);
    return s;
  };
  const sweep = (): void => {
    for (const [id, r] of rejected) if (now() - r.at > KEEP_FINISHED_MS || rejected.size > MAX_REJECTED) rejected.delete(id);
    for (const s of manager.all) {
      if (s.finishedAt !== undefined && buffers.has(s.id) && now() - s.finishedAt > KEEP_FINISHED_MS) {
        buffers.delete(s.id);
        manager.forget(s.id);
      }
    }
  };
  return {
    'processes.start': async ({ spec, rejectInvalid }) => {
      sweep();
      if ('argv' in spec && !opts.allowArbitrary) throw new EdgehookError('FORBIDDEN', 'this agent does not run arbitrary commands');
      const buffer = new TailBuffer();
      let session;
      try {
        session = await manager.start(spec, buffer);
      } catch (err) {
        if (!rejectInvalid || !(err instanceof EdgehookError) || (err.code !== 'NOT_FOUND' && err.code !== 'BAD_REQUEST')) throw err;
        const id = nodeCrypto().randomUUID();
        rejected.set(id, { reason: `failed to get process: ${err.message}`, at: now() });
        return { id, pid: 0 };
      }
      buffers.set(session.id, buffer);
      return { id: session.id, pid: session.pid };
    },
    // A job's run (control-plane/src/jobs/): to its end in one call, no input, cancelled at its timeout.
    // The dispatcher answers a redelivered request id with this run's answer, so it runs once.
    'processes.run': async ({ spec, timeoutMs, tailBytes }) => {
      if ('argv' in spec && !opts.allowArbitrary) throw new EdgehookError('FORBIDDEN', 'this agent does not run arbitrary commands');
      const buffer = new TailBuffer(64 * 1024);
      const session = await manager.start(spec, buffer);
      session.closeInput();
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        session.cancel(`timed out after ${timeoutMs} ms`);
      }, timeoutMs);
      try {
        const result = await session.done;
        return { result, output: tailBytes === 0 ? '' : buffer.value.slice(-tailBytes), timedOut };
      } finally {
        clearTimeout(timer);
        manager.forget(session.id);
      }
    },
    'processes.status': async ({ id }) => {
      const r = rejected.get(id);
      if (r) return { result: { status: 'rejected' as const, reason: r.reason }, buffer: '', truncated: false };
      const s = mustFind(id);
      const buffer = buffers.get(id);
      return { result: s.result ?? { status: 'pending' as const }, buffer: buffer?.value ?? '', truncated: buffer?.truncated ?? false };
    },
    'processes.input': async ({ id, data }) => {
      if (rejected.has(id)) throw new EdgehookError('INTERNAL', 'error copying data to process: it never started');
      const s = mustFind(id);
      await new Promise<void>((resolve) => s.writeInput(Buffer.from(data), resolve));
      return {};
    },
    'processes.closeInput': async ({ id }) => {
      if (rejected.has(id)) return {};
      mustFind(id).closeInput();
      return {};
    },
    'processes.cancel': async ({ id }) => {
      if (rejected.has(id)) return {};
      mustFind(id).cancel(PowCancelReasons.clientRequest);
      return {};
    },
    'processes.actions': async () => manager.actions.info,
    'processes.signal': async ({ pid, signal }) => {
      manager.signal(pid, signal);
      return {};
    },
    'processes.list': async () => {
      const sockets = await listeningSockets();
      const out: RunningProcess[] = [];
      for (const s of manager.running()) {
        const usage = await groupUsage(s.pid, sockets);
        const at = now();
        const prev = lastSample.get(s.pid);
        const cpuMs = ticksToMs(usage.cpuTicks);
        const cpu = prev ? (ticksToMs(usage.cpuTicks - prev.ticks) / Math.max(1, at - prev.at)) * 100 : (cpuMs / Math.max(1, at - s.startedAt)) * 100;
        lastSample.set(s.pid, { ticks: usage.cpuTicks, at });
        out.push({
          id: s.id,
          pid: s.pid,
          title: s.title,
          reqc: s.argv.join(' '),
          cpu_util: Math.round(cpu * 10) / 10,
          mem_util: usage.rssMb,
          mem_percent: Math.round(((usage.rssMb * 1024 * 1024) / totalmem()) * 1000) / 10,
          port_util: usage.ports,
          startedAt: s.startedAt,
          kind: s.kind,
        });
      }
      for (const pid of lastSample.keys()) if (!out.some((p) => p.pid === pid)) lastSample.delete(pid);
      return out;
    },
  };
}
