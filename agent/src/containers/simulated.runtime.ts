import { nodeCrypto } from '@edgehook/shared/node-builtins';
import { EdgehookError, type Clock, type EngineInfo, type EngineState } from '@edgehook/shared';
import type { Attachment, ContainerRuntime, OutputChunk, PullListener, RawStats, RuntimeContainer, RuntimeCreateSpec, RuntimeEvent } from './container-runtime.js';
import { SimulatedRegistry } from './simulated.registry.js';
import { AsyncQueue } from './async-queue.js';

const MAX_LOG_CHUNKS = 10_000;
const HOST_MEMORY = 1024 * 1024 * 1024;

interface SimContainer {
  id: string;
  spec: RuntimeCreateSpec;
  state: EngineState;
  createdAt: number;
  startedAt: number | null;
  finishedAt: number | null;
  exitCode: number | null;
  log: OutputChunk[];
  /** Attach and follow-log listeners; each gets every new chunk; called with null when it stops. */
  listeners: Set<(c: OutputChunk | null) => void>;
  cpuNs: number;
  net: number;
  stdinRest: string;
  runToken: number;
}

/**
 * An engine in memory, for tests and a demo without Docker. Containers move through real states;
 * the command decides what runs: `["exit", "<code>"]` exits with that code, `sh -c "<script>"`
 * runs `echo ...`, `echo ... >&2` and `exit N` statements (and keeps running if the script does
 * anything else), any other command runs until stopped and announces itself with one line. A running
 * container echoes console input lines to stdout.
 *
 * Images: those in `images` when given, else every image outside the simulated registry, are on the
 * device; the rest are pulled from the registry (simulated.registry.ts) in layers, over time.
 */
export class SimulatedContainerRuntime implements ContainerRuntime {
  private readonly containers = new Map<string, SimContainer>();
  private readonly eventListeners = new Set<(e: RuntimeEvent) => void>();

  private readonly registry: SimulatedRegistry;
  private readonly pulledImages = new Set<string>();
  private readonly pulledLayers = new Set<string>();

  constructor(private readonly opts: { clock: Clock; images?: string[]; registry?: SimulatedRegistry }) {
    this.registry = opts.registry ?? new SimulatedRegistry({ clock: opts.clock });
  }

  private hasImage(image: string): boolean {
    if (this.pulledImages.has(image)) return true;
    return this.opts.images ? this.opts.images.includes(image) : !SimulatedRegistry.owns(image);
  }

  async pull(image: string, opts: { onProgress?: PullListener | undefined } = {}): Promise<void> {
    const layers = await this.registry.pull(image, this.pulledLayers, opts.onProgress);
    for (const l of layers) this.pulledLayers.add(l.id);
    this.pulledImages.add(image);
  }

  async info(): Promise<EngineInfo> {
    return { name: 'simulated', version: '1.0', apiVersion: '1.41', socket: 'memory' };
  }

  async list(opts: { all: boolean; labels?: Record<string, string> }): Promise<RuntimeContainer[]> {
    return [...this.containers.values()]
      .filter((c) => opts.all || c.state === 'running')
      .filter((c) => Object.entries(opts.labels ?? {}).every(([k, v]) => c.spec.labels[k] === v))
      .map((c) => this.view(c));
  }

  async inspect(ref: string): Promise<RuntimeContainer> {
    return this.view(this.find(ref));
  }

  async create(spec: RuntimeCreateSpec, opts: { onPull?: PullListener } = {}): Promise<string> {
    if (!this.hasImage(spec.image)) await this.pull(spec.image, { onProgress: opts.onPull });
    for (const c of this.containers.values()) {
      if (c.spec.name === spec.name) throw new EdgehookError('CONFLICT', `the container name "/${spec.name}" is already in use by ${c.id}`);
    }
    const id = nodeCrypto().randomBytes(32).toString('hex');
    const c: SimContainer = { id, spec: structuredClone(spec), state: 'created', createdAt: this.opts.clock.now(), startedAt: null, finishedAt: null, exitCode: null, log: [], listeners: new Set(), cpuNs: 0, net: 0, stdinRest: '', runToken: 0 };
    this.containers.set(id, c);
    this.emit(c, 'create');
    return id;
  }

  async start(ref: string): Promise<void> {
    const c = this.find(ref);
    if (c.state === 'running') return;
    c.state = 'running';
    c.startedAt = this.opts.clock.now();
    c.finishedAt = null;
    c.exitCode = null;
    const token = ++c.runToken;
    this.emit(c, 'start');
    // The program runs after start returns, as a real process would.
    setImmediate(() => {
      if (c.runToken === token && c.state === 'running') this.run(c);
    });
  }

  async stop(ref: string, _timeoutSec: number): Promise<void> {
    const c = this.find(ref);
    if (c.state !== 'running') return;
    this.emit(c, 'kill');
    this.exit(c, 143);
    this.emit(c, 'stop');
  }

  async restart(ref: string, timeoutSec: number): Promise<void> {
    await this.stop(ref, timeoutSec);
    await this.start(ref);
    this.emit(this.find(ref), 'restart');
  }

  async kill(ref: string, signal: string): Promise<void> {
    const c = this.find(ref);
    if (c.state !== 'running') throw new EdgehookError('CONFLICT', `container ${c.id} is not running`);
    this.emit(c, 'kill');
    this.exit(c, 128 + (SIGNALS[signal.replace(/^SIG/, '')] ?? 9));
  }

  async remove(ref: string, opts: { force: boolean }): Promise<void> {
    const c = this.find(ref);
    if (c.state === 'running') {
      if (!opts.force) throw new EdgehookError('CONFLICT', `cannot remove container ${c.id}: it is running (stop it first or force)`);
      this.emit(c, 'kill');
      this.exit(c, 137);
    }
    this.containers.delete(c.id);
    this.emit(c, 'destroy');
  }

  async *logs(ref: string, opts: { tail: number; follow: boolean; signal?: AbortSignal }): AsyncIterable<OutputChunk> {
    const c = this.find(ref);
    const past = opts.tail === 0 ? [] : c.log.slice(-opts.tail);
    if (!opts.follow || c.state !== 'running') {
      yield* past;
      return;
    }
    const queue = this.subscribe(c, opts.signal);
    yield* past;
    yield* queue;
  }

  async attach(ref: string): Promise<Attachment> {
    const c = this.find(ref);
    const queue = this.subscribe(c, undefined);
    return {
      output: queue,
      write: async (data) => {
        if (queue.isEnded) throw new EdgehookError('CONFLICT', 'the console is closed');
        if (c.state === 'running' && c.spec.openStdin) this.input(c, data);
      },
      close: () => queue.end(),
    };
  }

  async *stats(ref: string, opts: { stream: boolean; signal?: AbortSignal }): AsyncIterable<RawStats> {
    const c = this.find(ref);
    let pre = this.sample(c, null);
    if (!opts.stream) {
      yield pre;
      return;
    }
    while (!opts.signal?.aborted && this.containers.has(c.id)) {
      await sleep(1000, opts.signal);
      if (opts.signal?.aborted || !this.containers.has(c.id)) return;
      const next = this.sample(c, pre);
      yield next;
      pre = next;
    }
  }

  async *events(opts: { signal: AbortSignal }): AsyncIterable<RuntimeEvent> {
    const queue = new AsyncQueue<RuntimeEvent>(undefined, undefined, Number.MAX_SAFE_INTEGER);
    const listener = (e: RuntimeEvent): void => queue.push(e);
    this.eventListeners.add(listener);
    const stop = (): void => {
      this.eventListeners.delete(listener);
      queue.end();
    };
    if (opts.signal.aborted) stop();
    opts.signal.addEventListener('abort', stop, { once: true });
    try {
      yield* queue;
    } finally {
      opts.signal.removeEventListener('abort', stop);
      this.eventListeners.delete(listener);
    }
  }

  // ---- the simulated machine ----

  private find(ref: string): SimContainer {
    const byId = this.containers.get(ref);
    if (byId) return byId;
    for (const c of this.containers.values()) if (c.spec.name === ref) return c;
    if (/^[0-9a-f]{3,}$/.test(ref)) {
      const matches = [...this.containers.values()].filter((c) => c.id.startsWith(ref));
      if (matches.length === 1 && matches[0]) return matches[0];
    }
    throw new EdgehookError('NOT_FOUND', `no such container: ${ref}`);
  }

  private view(c: SimContainer): RuntimeContainer {
    return {
      id: c.id,
      name: c.spec.name,
      image: c.spec.image,
      state: c.state,
      status: c.state === 'running' ? 'Up' : c.state === 'exited' ? `Exited (${c.exitCode ?? 0})` : 'Created',
      labels: { ...c.spec.labels },
      createdAt: c.createdAt,
      startedAt: c.startedAt,
      finishedAt: c.finishedAt,
      exitCode: c.exitCode,
      tty: c.spec.tty,
      ports: c.spec.ports.map((p) => ({ container: p.container, host: p.host, protocol: p.protocol })),
    };
  }

  private emit(c: SimContainer, action: string, exitCode?: number): void {
    const e: RuntimeEvent = { id: c.id, action, time: this.opts.clock.now() };
    if (exitCode !== undefined) e.exitCode = exitCode;
    for (const l of this.eventListeners) l(e);
  }

  private write(c: SimContainer, stream: OutputChunk['stream'], text: string): void {
    const chunk = { stream, data: Buffer.from(text) };
    c.log.push(chunk);
    if (c.log.length > MAX_LOG_CHUNKS) c.log.splice(0, c.log.length - MAX_LOG_CHUNKS);
    for (const l of c.listeners) l(chunk);
  }

  private subscribe(c: SimContainer, signal: AbortSignal | undefined): AsyncQueue<OutputChunk> {
    const queue = new AsyncQueue<OutputChunk>(undefined, undefined, Number.MAX_SAFE_INTEGER);
    const listener = (chunk: OutputChunk | null): void => (chunk ? queue.push(chunk) : queue.end());
    const end = (): void => {
      c.listeners.delete(listener);
      queue.end();
    };
    c.listeners.add(listener);
    signal?.addEventListener('abort', end, { once: true });
    if (c.state !== 'running' || signal?.aborted) end();
    return queue;
  }

  private run(c: SimContainer): void {
    const cmd = [...(c.spec.entrypoint ?? []), ...(c.spec.cmd ?? [])];
    if (cmd[0] === 'exit') return this.exit(c, toCode(cmd[1]));
    if ((cmd[0] === 'sh' || cmd[0] === '/bin/sh') && cmd[1] === '-c' && cmd[2] !== undefined) {
      for (const statement of cmd[2].split(/;|\n/).map((s) => s.trim()).filter(Boolean)) {
        const echo = /^echo(?:\s+(.*?))?\s*(>&2)?$/.exec(statement);
        if (echo) this.write(c, echo[2] ? 'stderr' : 'stdout', `${unquote(echo[1] ?? '')}\n`);
        else if (/^exit(\s+\d+)?$/.test(statement)) return this.exit(c, toCode(statement.split(/\s+/)[1]));
        else return; // anything else (cat, sleep, a loop): keeps running
      }
      return this.exit(c, 0);
    }
    if (cmd[0] !== 'cat') this.write(c, 'stdout', `[simulated] ${c.spec.name} started: ${cmd.join(' ') || '(image default)'}\n`);
  }

  private input(c: SimContainer, data: Buffer): void {
    const text = c.stdinRest + data.toString('utf8');
    const lines = text.split('\n');
    c.stdinRest = lines.pop() ?? '';
    for (const line of lines) this.write(c, 'stdout', `${line}\n`);
  }

  private exit(c: SimContainer, code: number): void {
    if (c.state !== 'running') return;
    c.state = 'exited';
    c.exitCode = code;
    c.finishedAt = this.opts.clock.now();
    c.runToken++;
    c.stdinRest = '';
    for (const l of [...c.listeners]) l(null);
    c.listeners.clear();
    this.emit(c, 'die', code);
  }

  /** Plausible, varying numbers in Docker's shape (cgroup v2 style: inactive_file). */
  private sample(c: SimContainer, pre: RawStats | null): RawStats {
    const now = this.opts.clock.now();
    const running = c.state === 'running';
    if (running) {
      c.cpuNs += Math.round(20e6 + 30e6 * Math.abs(Math.sin(now / 7000)));
      c.net += 200 + Math.round(Math.random() * 800);
    }
    const limit = c.spec.memoryBytes ?? HOST_MEMORY;
    const usage = running ? Math.min(limit, Math.round(24e6 + 8e6 * Math.abs(Math.sin(now / 5000)) + Math.random() * 1e6)) : 0;
    const system = now * 2e6; // 2 cores' worth of nanoseconds
    const cpu = { cpu_usage: { total_usage: c.cpuNs }, system_cpu_usage: system, online_cpus: 2 };
    return {
      read: new Date(now).toISOString(),
      cpu_stats: cpu,
      precpu_stats: pre ? pre.cpu_stats : { cpu_usage: { total_usage: 0 } },
      memory_stats: { usage, limit, stats: { inactive_file: Math.round(usage / 10) } },
      networks: { eth0: { rx_bytes: c.net, tx_bytes: Math.round(c.net / 2) } },
    };
  }
}

const SIGNALS: Record<string, number> = { HUP: 1, INT: 2, QUIT: 3, KILL: 9, USR1: 10, USR2: 12, TERM: 15 };

function toCode(value: string | undefined): number {
  const n = Number(value ?? 0);
  return Number.isInteger(n) ? n & 0xff : 0;
}

function unquote(s: string): string {
  return s.replace(/^(['"])(.*)\1$/, '$2');
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done(): void {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
