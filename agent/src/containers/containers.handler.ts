import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { EDGEHOOK_LABELS, type Clock, type ContainerInfo, type Logger } from '@edgehook/shared';
import type { RpcHandlers } from '../devices/rpc.dispatcher.js';
import type { ContainerRuntime, OutputChunk, PullListener, RuntimeContainer } from './container-runtime.js';
import { throttledPull } from './pull-progress.js';
import type { HostAccessPolicy } from './host-access.js';
import type { ServersExecutor } from './executor.js';
import type { FilesService } from './files.service.js';
import { OWNER, planServers, specHash, toCreateSpec } from './planner.js';
import type { PowerManager } from './power.js';
import { toWingsStats } from './stats.js';

export interface ContainersDeps {
  runtime: ContainerRuntime;
  power: PowerManager;
  executor: ServersExecutor;
  files: FilesService;
  clock: Clock;
  log: Logger;
  diskBytes: (server: string | null) => Promise<number>;
  /** What containers may reach on the host (the agent's --container-* flags); nothing by default. */
  hostAccess?: HostAccessPolicy | undefined;
  /** Image pull progress (published on the containerPull topic). */
  onPull?: PullListener | undefined;
}

/** An RPC reply travels in one MQTT message: keep the log lines well under that. */
const LOG_REPLY_BYTES = 200 * 1024;
const DISK_CACHE_MS = 10_000;
const DISK_WALK_MAX_ENTRIES = 50_000;

export function toContainerInfo(c: RuntimeContainer, power: PowerManager): ContainerInfo {
  const managed = c.labels[EDGEHOOK_LABELS.owner] === OWNER;
  return {
    id: c.id,
    name: c.name,
    image: c.image,
    engineState: c.state,
    status: c.status,
    power: power.powerOf(c),
    managed,
    server: managed ? (c.labels[EDGEHOOK_LABELS.server] ?? c.name) : null,
    declared: managed && c.labels[EDGEHOOK_LABELS.declared] === 'true',
    createdAt: c.createdAt,
    startedAt: c.startedAt,
    finishedAt: c.finishedAt,
    exitCode: c.exitCode,
    ports: c.ports,
    labels: c.labels,
  };
}

/** Splits demultiplexed output into lines per stream (a line may span chunks). */
export class OutputLineSplitter {
  private readonly partial = { stdout: '', stderr: '' };
  private readonly decoders = { stdout: new TextDecoder('utf-8'), stderr: new TextDecoder('utf-8') };

  push(chunk: OutputChunk): Array<{ stream: 'stdout' | 'stderr'; line: string }> {
    const text = this.partial[chunk.stream] + this.decoders[chunk.stream].decode(chunk.data, { stream: true });
    const parts = text.split('\n');
    this.partial[chunk.stream] = parts.pop() ?? '';
    return parts.map((line) => ({ stream: chunk.stream, line: line.endsWith('\r') ? line.slice(0, -1) : line }));
  }

  flush(): Array<{ stream: 'stdout' | 'stderr'; line: string }> {
    const out: Array<{ stream: 'stdout' | 'stderr'; line: string }> = [];
    for (const stream of ['stdout', 'stderr'] as const) {
      const rest = this.partial[stream] + this.decoders[stream].decode();
      if (rest) out.push({ stream, line: rest });
      this.partial[stream] = '';
    }
    return out;
  }
}

/** Bytes under a directory, by a walk that stops after a bounded number of entries. */
export async function directorySize(dir: string, maxEntries = DISK_WALK_MAX_ENTRIES): Promise<number> {
  let total = 0;
  let seen = 0;
  const stack = [dir];
  while (stack.length > 0 && seen < maxEntries) {
    const d = stack.pop() ?? dir;
    const names = await readdir(d).catch(() => [] as string[]);
    for (const name of names) {
      if (++seen > maxEntries) break;
      const st = await lstat(join(d, name)).catch(() => undefined);
      if (!st) continue;
      if (st.isDirectory()) stack.push(join(d, name));
      else total += st.size;
    }
  }
  return total;
}

/** disk_bytes for stats: the data directory's size, walked at most every few seconds per server. */
export function diskUsage(files: FilesService, clock: Clock): (server: string | null) => Promise<number> {
  const cache = new Map<string, { at: number; bytes: number }>();
  return async (server) => {
    if (!server) return 0;
    const hit = cache.get(server);
    if (hit && clock.monotonic() - hit.at < DISK_CACHE_MS) return hit.bytes;
    const bytes = await directorySize(files.dataDir(server)).catch(() => 0);
    cache.set(server, { at: clock.monotonic(), bytes });
    return bytes;
  };
}

export function containerRpcHandlers(deps: ContainersDeps): RpcHandlers {
  const { runtime, power, executor, files, clock, diskBytes } = deps;
  const info = async (ref: string): Promise<ContainerInfo> => toContainerInfo(await runtime.inspect(ref), power);
  return {
    'containers.engine': async () => runtime.info(),
    'containers.list': async ({ all }) => (await runtime.list({ all })).map((c) => toContainerInfo(c, power)),
    'containers.inspect': async ({ ref }) => info(ref),
    'containers.create': async ({ spec, start }) => {
      const dataDir = spec.dataMount === null ? files.dataDir(spec.name) : await files.ensureDataDir(spec.name);
      const create = toCreateSpec(spec, { dataDir, declared: false, hostAccess: deps.hostAccess });
      const report = deps.onPull ? throttledPull(deps.onPull, clock) : undefined;
      const id = await power.exclusive(spec.name, () => runtime.create(create, report ? { onPull: report } : {}));
      if (start) await power.run(id, 'start');
      return info(id);
    },
    'containers.power': async ({ ref, action, timeoutSec, signal, wait }) =>
      toContainerInfo(await power.run(ref, action, { wait, ...(timeoutSec !== undefined ? { timeoutSec } : {}), ...(signal ? { signal } : {}) }), power),
    'containers.remove': async ({ ref, force }) => {
      const c = await runtime.inspect(ref);
      await power.exclusive(c.name, () => runtime.remove(c.id, { force }));
      await power.refresh(c.id);
      return {};
    },
    'containers.logs': async ({ ref, tail }) => {
      const splitter = new OutputLineSplitter();
      const lines: Array<{ stream: 'stdout' | 'stderr'; line: string }> = [];
      for await (const chunk of runtime.logs(ref, { tail, follow: false })) lines.push(...splitter.push(chunk));
      lines.push(...splitter.flush());
      // Keep the newest lines that fit in one reply.
      let bytes = 0;
      let from = lines.length;
      while (from > 0) {
        const size = Buffer.byteLength(lines[from - 1]?.line ?? '') + 32;
        if (bytes + size > LOG_REPLY_BYTES) break;
        bytes += size;
        from--;
      }
      const kept = lines.slice(Math.max(from, lines.length - tail));
      return { lines: kept, truncated: from > 0 };
    },
    'containers.stats': async ({ ref }) => {
      const c = await runtime.inspect(ref);
      let raw;
      for await (const sample of runtime.stats(ref, { stream: false })) {
        raw = sample;
        break;
      }
      const ctx = { state: c.state, startedAt: c.startedAt, now: clock.now(), diskBytes: await diskBytes(toContainerInfo(c, power).server) };
      const stats = raw
        ? toWingsStats(raw, ctx)
        : { memory_bytes: 0, memory_limit_bytes: 0, cpu_absolute: 0, network: { rx_bytes: 0, tx_bytes: 0 }, uptime: 0, state: power.powerOf(c), disk_bytes: ctx.diskBytes };
      return { ...stats, state: power.powerOf(c) };
    },
    'servers.plan': async ({ servers }) => ({ steps: planServers(await runtime.list({ all: true }), servers, specHash) }),
    'servers.apply': async ({ servers }) => executor.apply(servers),
    'files.list': async ({ server, path }) => files.list(server, path),
    'files.stat': async ({ server, path }) => files.stat(server, path),
    'files.rename': async ({ server, from, to }) => {
      await files.rename(server, from, to);
      return {};
    },
    'files.delete': async ({ server, path }) => {
      await files.delete(server, path);
      return {};
    },
    'files.mkdir': async ({ server, path }) => {
      await files.mkdir(server, path);
      return {};
    },
  };
}
