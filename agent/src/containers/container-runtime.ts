import type { EngineInfo, EngineState, PullProgress } from '@edgehook/shared';

/**
 * The seam between the agent and a container engine. One real implementation speaks the Docker
 * Engine HTTP API on a unix socket (Docker, or Podman's compatible service); a simulated one runs
 * in memory. One contract suite (test/containers/runtime.contract.ts) runs over both.
 *
 * Every method throws EdgehookError: NOT_FOUND for an unknown container, CONFLICT for a name in
 * use or a state that forbids the call, ENGINE_UNAVAILABLE when the engine cannot be reached.
 */
export interface ContainerRuntime {
  info(): Promise<EngineInfo>;
  list(opts: { all: boolean; labels?: Record<string, string> }): Promise<RuntimeContainer[]>;
  inspect(ref: string): Promise<RuntimeContainer>;
  /** Creates (pulling the image first when it is missing, reporting to `onPull`); returns the container id. */
  create(spec: RuntimeCreateSpec, opts?: { onPull?: PullListener }): Promise<string>;
  /**
   * Pulls the image from its registry, reporting layers and bytes as they arrive; the last report is
   * `done`, or `failed` with the reason (and the call then throws NOT_FOUND with that reason).
   */
  pull(image: string, opts?: { onProgress?: PullListener }): Promise<void>;
  start(ref: string): Promise<void>;
  /** Stops with SIGTERM, then SIGKILL after `timeoutSec`. Stopping a stopped container is not an error. */
  stop(ref: string, timeoutSec: number): Promise<void>;
  restart(ref: string, timeoutSec: number): Promise<void>;
  kill(ref: string, signal: string): Promise<void>;
  remove(ref: string, opts: { force: boolean }): Promise<void>;
  /** Demultiplexed output (stdout/stderr apart even for non-tty containers). Ends when not following or on abort. */
  logs(ref: string, opts: { tail: number; follow: boolean; signal?: AbortSignal }): AsyncIterable<OutputChunk>;
  /** Console: stdin in, output out, while the container runs. */
  attach(ref: string): Promise<Attachment>;
  /** Raw engine stats, one sample per engine tick (~1 s) while `stream`, else one sample. */
  stats(ref: string, opts: { stream: boolean; signal?: AbortSignal }): AsyncIterable<RawStats>;
  /** Container lifecycle events (start, die, destroy...), for state the engine changes on its own. */
  events(opts: { signal: AbortSignal }): AsyncIterable<RuntimeEvent>;
}

export type PullListener = (p: PullProgress) => void;

export interface OutputChunk {
  stream: 'stdout' | 'stderr';
  data: Buffer;
}

export interface Attachment {
  readonly output: AsyncIterable<OutputChunk>;
  /** Resolves once written to the engine; false-y backpressure is handled by awaiting it. */
  write(data: Buffer): Promise<void>;
  close(): void;
}

export interface RuntimeContainer {
  id: string;
  name: string;
  image: string;
  state: EngineState;
  status: string;
  labels: Record<string, string>;
  createdAt: number;
  startedAt: number | null;
  finishedAt: number | null;
  exitCode: number | null;
  tty: boolean;
  ports: Array<{ container: number; host: number | null; protocol: string }>;
}

/** Engine-level create request (the agent turns a ContainerSpec into this). */
export interface RuntimeCreateSpec {
  name: string;
  image: string;
  cmd?: string[];
  entrypoint?: string[];
  env: Record<string, string>;
  ports: Array<{ container: number; host: number; protocol: 'tcp' | 'udp'; hostIp?: string }>;
  binds: Array<{ source: string; target: string; readOnly: boolean }>;
  restartPolicy: 'no' | 'always' | 'unless-stopped' | 'on-failure';
  memoryBytes?: number;
  nanoCpus?: number;
  labels: Record<string, string>;
  tty: boolean;
  openStdin: boolean;
  workingDir?: string;
  stopTimeoutSec: number;
  /** Host access, each allowed by the agent's policy first (host-access.ts). */
  privileged?: boolean;
  networkMode?: 'bridge' | 'host' | 'none';
  pidMode?: 'host';
  devices?: Array<{ host: string; container: string; permissions: string }>;
  capAdd?: string[];
}

/** The subset of Docker's stats JSON we read (cgroup v1 and v2 shapes). */
export interface RawStats {
  read: string;
  cpu_stats: { cpu_usage: { total_usage: number }; system_cpu_usage?: number; online_cpus?: number };
  precpu_stats: { cpu_usage: { total_usage: number }; system_cpu_usage?: number; online_cpus?: number };
  memory_stats: { usage?: number; limit?: number; stats?: Record<string, number> };
  networks?: Record<string, { rx_bytes: number; tx_bytes: number }>;
}

export interface RuntimeEvent {
  id: string;
  /** Docker's action names (start, die, stop, kill, destroy...); Podman's `remove` is reported as `destroy`. */
  action: string;
  time: number;
  /** On `die`: the exit code the engine reported. */
  exitCode?: number;
}
