import { EdgehookError, type EngineState, type Logger, type PowerAction, type PowerState } from '@edgehook/shared';
import type { ContainerRuntime, RuntimeContainer } from './container-runtime.js';

export interface PowerChange {
  id: string;
  name: string;
  state: PowerState;
}

export interface PowerOptions {
  timeoutSec?: number;
  signal?: string;
  /** False: refuse with CONFLICT instead of queueing behind an action in progress. */
  wait?: boolean;
}

/** Engine state -> Wings power state when no action of ours is in progress. */
export function powerOfEngine(state: EngineState): PowerState {
  if (state === 'running') return 'running';
  if (state === 'restarting') return 'starting';
  return 'offline';
}

/**
 * Per-container power serialization with Wings' states. Actions on one container (by name) run one
 * at a time; others queue behind or are refused. Every transition goes to the listeners (the
 * console socket's `status` events); engine events cover what the container does on its own.
 */
export class PowerManager {
  private readonly tails = new Map<string, Promise<unknown>>();
  private readonly busy = new Map<string, number>();
  /** Transitional state while an action runs, by container name. */
  private readonly transient = new Map<string, PowerState>();
  private readonly last = new Map<string, PowerState>();
  private readonly listeners = new Set<(c: PowerChange) => void>();
  private readonly abort = new AbortController();

  constructor(private readonly deps: { runtime: ContainerRuntime; log: Logger; defaultStopTimeoutSec?: number }) {}

  onChange(listener: (c: PowerChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The power state to report for a container the engine listed. */
  powerOf(c: RuntimeContainer): PowerState {
    return this.transient.get(c.name) ?? powerOfEngine(c.state);
  }

  /** True while an action (power or executor step) runs or waits for this container name. */
  isBusy(name: string): boolean {
    return (this.busy.get(name) ?? 0) > 0;
  }

  /** Runs `fn` alone for `name`: after the actions queued before it, before those queued after. */
  async exclusive<T>(name: string, fn: () => Promise<T>, opts: { wait?: boolean } = {}): Promise<T> {
    if (opts.wait === false && this.isBusy(name)) throw new EdgehookError('CONFLICT', `another power action is in progress for ${name}`);
    this.busy.set(name, (this.busy.get(name) ?? 0) + 1);
    const prev = this.tails.get(name) ?? Promise.resolve();
    const run = prev.then(fn, fn);
    const tail = run.then(
      () => undefined,
      () => undefined,
    );
    this.tails.set(name, tail);
    try {
      return await run;
    } finally {
      const left = (this.busy.get(name) ?? 1) - 1;
      if (left > 0) this.busy.set(name, left);
      else this.busy.delete(name);
      if (this.tails.get(name) === tail) this.tails.delete(name);
    }
  }

  /** One power action, serialized; resolves with the container as it is afterwards. */
  async run(ref: string, action: PowerAction, opts: PowerOptions = {}): Promise<RuntimeContainer> {
    const { runtime } = this.deps;
    const target = await runtime.inspect(ref);
    const name = target.name;
    return this.exclusive(
      name,
      async () => {
        const timeout = opts.timeoutSec ?? this.deps.defaultStopTimeoutSec ?? 10;
        let after: RuntimeContainer | undefined;
        try {
          if (action === 'start') {
            this.set(target.id, name, 'starting', true);
            await runtime.start(name);
          } else if (action === 'stop') {
            this.set(target.id, name, 'stopping', true);
            await runtime.stop(name, timeout);
          } else if (action === 'kill') {
            this.set(target.id, name, 'stopping', true);
            await runtime.kill(name, opts.signal ?? 'SIGKILL');
          } else {
            // As Wings: a restart is a stop then a start, each state observable.
            this.set(target.id, name, 'stopping', true);
            await runtime.stop(name, timeout);
            this.set(target.id, name, 'offline', true);
            this.set(target.id, name, 'starting', true);
            await runtime.start(name);
          }
        } finally {
          this.transient.delete(name);
          // One inspect both reports the new state and answers the caller (each costs ~10-30 ms on Podman).
          after = await this.refresh(name);
        }
        return after ?? runtime.inspect(name);
      },
      opts.wait === false ? { wait: false } : {},
    );
  }

  /** Re-reads the engine's state for `ref`, reports a change, and returns what it read. */
  async refresh(ref: string): Promise<RuntimeContainer | undefined> {
    try {
      const c = await this.deps.runtime.inspect(ref);
      this.set(c.id, c.name, this.powerOf(c), false);
      return c;
    } catch (err) {
      if (err instanceof EdgehookError && err.code === 'NOT_FOUND') {
        if (this.last.has(ref)) this.emit({ id: ref, name: ref, state: 'offline' });
        this.last.delete(ref);
      }
      return undefined;
    }
  }

  /** Follows engine events (a container dying on its own) until `close`; retries while the engine is away. */
  watchEvents(): void {
    const { signal } = this.abort;
    void (async () => {
      for (let attempt = 0; !signal.aborted; attempt++) {
        try {
          for await (const e of this.deps.runtime.events({ signal })) {
            attempt = 0;
            if (!['start', 'die', 'stop', 'kill', 'destroy', 'restart', 'oom'].includes(e.action)) continue;
            const c = await this.deps.runtime.inspect(e.id).catch(() => undefined);
            if (c && !this.isBusy(c.name)) this.set(c.id, c.name, powerOfEngine(c.state), false);
          }
        } catch (err) {
          if (signal.aborted) return;
          this.deps.log.debug('container events unavailable', { err });
        }
        await new Promise((r) => setTimeout(r, Math.min(30_000, 1000 * 2 ** Math.min(attempt, 5))).unref());
      }
    })();
  }

  close(): void {
    this.abort.abort();
    this.listeners.clear();
  }

  private set(id: string, name: string, state: PowerState, transient: boolean): void {
    if (transient) this.transient.set(name, state);
    if (this.last.get(name) === state) return;
    this.last.set(name, state);
    this.emit({ id, name, state });
  }

  private emit(c: PowerChange): void {
    for (const l of this.listeners) {
      try {
        l(c);
      } catch (err) {
        this.deps.log.warn('power listener failed', { err });
      }
    }
  }
}
