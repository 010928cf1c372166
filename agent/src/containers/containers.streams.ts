import { ContainerStreamKinds, EDGEHOOK_LABELS, EdgehookError, type Clock, type ContainerStats, type Logger } from '@edgehook/shared';
import type { AgentStream, StreamKindImpls } from '../streams/stream-host.js';
import { uploadInput } from '../streams/upload-input.js';
import type { ContainerRuntime, OutputChunk, RawStats } from './container-runtime.js';
import type { ConsoleHub } from './console-hub.js';
import type { FilesService } from './files.service.js';
import type { PowerManager } from './power.js';
import { toWingsStats } from './stats.js';

export interface ContainerStreamsDeps {
  runtime: ContainerRuntime;
  power: PowerManager;
  files: FilesService;
  /** Consoles share one attachment per container (closing one closes the container's stdin). */
  consoles: ConsoleHub;
  clock: Clock;
  log: Logger;
  /** Bytes in a server's data directory (cached walk). */
  diskBytes: (server: string | null) => Promise<number>;
}

/** Wings sends stats once a second. */
const STATS_INTERVAL_MS = 1000;
const message = (err: unknown): string => (err instanceof Error ? err.message : String(err));
const channelOf = (c: OutputChunk): number => (c.stream === 'stderr' ? 2 : 1);

/** Resolves once the stream has room again, or when `signal` says the stream is over. */
function drained(stream: AgentStream, signal: AbortSignal): Promise<void> {
  if (stream.finished || signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      off();
      signal.removeEventListener('abort', done);
      resolve();
    };
    const off = stream.onDrain(done);
    signal.addEventListener('abort', done, { once: true });
  });
}

/** Writes engine output to the stream, pausing the engine read while the window is full. */
async function pump(source: AsyncIterable<OutputChunk>, stream: AgentStream, signal: AbortSignal): Promise<void> {
  for await (const chunk of source) {
    if (stream.finished || signal.aborted) return;
    if (!stream.write(chunk.data, channelOf(chunk))) await drained(stream, signal);
  }
}

/**
 * The container as it is once a stop in progress is over: the attach can end before the engine has
 * the exit code (podman reports "stopping" with code 0 for a moment), and the console's end result
 * carries that code.
 */
async function settled(deps: Pick<ContainerStreamsDeps, 'runtime' | 'power' | 'clock'>, id: string, waitMs = 15_000): ReturnType<ContainerRuntime['inspect']> {
  const until = deps.clock.now() + waitMs;
  for (;;) {
    const now = await deps.runtime.inspect(id);
    if (deps.power.powerOf(now) !== 'stopping' || deps.clock.now() > until) return now;
    await new Promise((r) => setTimeout(r, 100));
  }
}

export function containerStreamKinds(deps: ContainerStreamsDeps): StreamKindImpls {
  const { runtime, power, files } = deps;
  return {
    [ContainerStreamKinds.console]: {
      async open(spec, stream) {
        const c = await runtime.inspect(spec.ref);
        const att = await deps.consoles.join(c.id);
        let ended = false;
        const abort = new AbortController();
        const finish = (reason?: string): void => {
          if (ended) return;
          ended = true;
          abort.abort();
          att.close();
          if (stream.finished) return;
          void settled(deps, c.id)
            .then(
              (now) => ({ exitCode: now.state === 'running' ? null : now.exitCode, state: power.powerOf(now) }),
              () => ({ exitCode: null, state: 'offline' }),
            )
            .then(({ exitCode, state }) => stream.end(reason ? { status: 'rejected', reason, exitCode } : { status: 'fulfilled', value: { state }, exitCode }));
        };
        stream.onInput((data, done) => {
          att.write(data).then(done, (err: unknown) => {
            done();
            finish(`console input failed: ${message(err)}`);
          });
        });
        stream.onCommand((cmd) => {
          if (cmd.type === 'cancel' || cmd.type === 'detach') finish();
        });
        stream.onGone(() => finish());
        void (async () => {
          // Attached first so nothing is missed; the replay goes out before live output.
          if (spec.tail > 0) await pump(runtime.logs(c.id, { tail: spec.tail, follow: false, signal: abort.signal }), stream, abort.signal);
          await pump(att.output, stream, abort.signal);
        })().then(
          () => finish(),
          (err: unknown) => finish(abort.signal.aborted ? undefined : `console failed: ${message(err)}`),
        );
        return { id: c.id, name: c.name, tty: c.tty };
      },
    },

    [ContainerStreamKinds.logs]: {
      async open(spec, stream) {
        const c = await runtime.inspect(spec.ref);
        const abort = new AbortController();
        const stop = (): void => abort.abort();
        stream.onCommand((cmd) => {
          if (cmd.type === 'cancel' || cmd.type === 'detach') stop();
        });
        stream.onGone(stop);
        void pump(runtime.logs(c.id, { tail: spec.tail, follow: spec.follow, signal: abort.signal }), stream, abort.signal).then(
          () => stream.end({ status: 'fulfilled' }),
          (err: unknown) => stream.end(abort.signal.aborted ? { status: 'fulfilled' } : { status: 'rejected', reason: `logs failed: ${message(err)}` }),
        );
        return { id: c.id, name: c.name };
      },
    },

    [ContainerStreamKinds.stats]: {
      async open(spec, stream) {
        let c = await runtime.inspect(spec.ref);
        const server = c.labels[EDGEHOOK_LABELS.server] ?? null;
        const abort = new AbortController();
        // The engine state changes rarely: re-read it on power changes, not on every sample.
        const offPower = power.onChange((change) => {
          if (change.name !== c.name) return;
          runtime.inspect(c.id).then(
            (now) => (c = now),
            () => undefined,
          );
        });
        const stop = (): void => {
          offPower();
          abort.abort();
        };
        stream.onCommand((cmd) => {
          if (cmd.type === 'cancel' || cmd.type === 'detach') stop();
        });
        stream.onGone(stop);
        // One sample a second, polled (engines stream at their own pace: Podman every 5 s), also
        // while the container is stopped, so the watcher sees every power change in the samples.
        const sleep = (ms: number): Promise<void> =>
          new Promise((resolve) => {
            const timer = setTimeout(resolve, ms);
            const wake = (): void => {
              clearTimeout(timer);
              resolve();
            };
            abort.signal.addEventListener('abort', wake, { once: true });
          });
        void (async () => {
          let previous: RawStats | undefined;
          while (!abort.signal.aborted && !stream.finished) {
            const started = deps.clock.now();
            const running = c.state === 'running' || c.state === 'paused';
            let stats: ContainerStats | undefined;
            if (running) {
              try {
                for await (const sample of runtime.stats(c.id, { stream: false, signal: abort.signal })) {
                  stats = toWingsStats(sample, { state: c.state, startedAt: c.startedAt, now: deps.clock.now(), diskBytes: await deps.diskBytes(server), ...(previous ? { previous } : {}) });
                  previous = sample;
                }
              } catch (err) {
                // Gone for good ends the stream; a sample lost to a race with a stop is skipped.
                if (err instanceof EdgehookError && err.code === 'NOT_FOUND') throw err;
              }
            } else {
              previous = undefined;
              stats = { memory_bytes: 0, memory_limit_bytes: 0, cpu_absolute: 0, network: { rx_bytes: 0, tx_bytes: 0 }, uptime: 0, state: 'offline', disk_bytes: await deps.diskBytes(server) };
            }
            // Samples are replaceable: while the window is full, drop them rather than queue.
            if (stats && !stream.finished) stream.write(Buffer.from(JSON.stringify({ ...stats, state: power.powerOf(c) }) + '\n'), 1);
            await sleep(Math.max(0, STATS_INTERVAL_MS - (deps.clock.now() - started)));
          }
        })().then(
          () => {
            stop();
            stream.end({ status: 'fulfilled' });
          },
          (err: unknown) => {
            const aborted = abort.signal.aborted;
            stop();
            stream.end(aborted ? { status: 'fulfilled' } : { status: 'rejected', reason: `stats failed: ${message(err)}` });
          },
        );
        return { id: c.id, name: c.name };
      },
    },

    [ContainerStreamKinds.fileRead]: {
      async open(spec, stream) {
        const { size, stream: rs } = await files.read(spec.server, spec.path);
        let sent = 0;
        const abort = new AbortController();
        rs.on('data', (chunk) => {
          const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk);
          sent += buf.length;
          if (!stream.write(buf, 1)) {
            rs.pause();
            void drained(stream, abort.signal).then(() => rs.resume());
          }
        });
        rs.on('end', () => stream.end({ status: 'fulfilled', value: { size: sent } }));
        rs.on('error', (err) => stream.end({ status: 'rejected', reason: `read failed: ${message(err)}` }));
        const stop = (): void => {
          abort.abort();
          rs.destroy();
          stream.end({ status: 'rejected', reason: 'cancelled' });
        };
        stream.onCommand((cmd) => {
          if (cmd.type === 'cancel' || cmd.type === 'detach') stop();
        });
        stream.onGone(() => {
          abort.abort();
          rs.destroy();
        });
        return { size };
      },
    },

    [ContainerStreamKinds.fileWrite]: {
      async open(spec, stream) {
        const upload = await files.write(spec.server, spec.path);
        let over = false;
        const fail = (reason: string): void => {
          if (over) return;
          over = true;
          void upload.abort().then(() => stream.end({ status: 'rejected', reason }));
        };
        const then = uploadInput(stream, { write: (data) => upload.write(data), over: () => over, onError: (err) => fail(`write failed: ${message(err)}`) });
        stream.onCommand((cmd) => {
          if (cmd.type === 'cancel' || cmd.type === 'detach') return fail('cancelled');
          if (cmd.type !== 'close-input') return;
          then(async () => {
            if (over) return;
            if (spec.size !== undefined && upload.bytes !== spec.size) return fail(`expected ${spec.size} bytes, got ${upload.bytes}`);
            over = true;
            try {
              const bytes = await upload.commit();
              stream.end({ status: 'fulfilled', value: { bytes } });
            } catch (err) {
              await upload.abort();
              stream.end({ status: 'rejected', reason: `could not save ${spec.path}: ${message(err)}` });
            }
          });
        });
        stream.onGone(() => fail('the operator disconnected'));
        return { path: spec.path };
      },
    },
  };
}
