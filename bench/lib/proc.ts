/** Child processes for benchmarks: the real control plane and agent, started from dist/, measured via /proc. */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const CP_MAIN = join(REPO_ROOT, 'control-plane/dist/main.js');
export const AGENT_MAIN = join(REPO_ROOT, 'agent/dist/main.js');

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** VmRSS and VmHWM (peak RSS) of a process, in KB. */
export function memoryOf(pid: number): { rssKb: number; hwmKb: number } {
  const text = readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name: string): number => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? NaN);
  return { rssKb: field('VmRSS'), hwmKb: field('VmHWM') };
}

/** utime+stime of a process in seconds (assumes the usual CLK_TCK of 100). */
export function cpuSecondsOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the ")" of the command name: state is field 3, utime 14, stime 15.
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(rest[11]) + Number(rest[12])) / 100;
}

/**
 * The kernel's TCP listen-queue counters (this network namespace, since boot): a rising
 * ListenOverflows means connections arrived faster than a server accepted them.
 */
export function tcpListenCounters(): { listenOverflows: number; listenDrops: number; synCookies: number } {
  try {
    const lines = readFileSync('/proc/net/netstat', 'utf8').split('\n').filter((l) => l.startsWith('TcpExt:'));
    const keys = lines[0]?.split(/\s+/) ?? [];
    const values = lines[1]?.split(/\s+/) ?? [];
    const get = (k: string): number => Number(values[keys.indexOf(k)] ?? NaN);
    return { listenOverflows: get('ListenOverflows'), listenDrops: get('ListenDrops'), synCookies: get('TCPReqQFullDoCookies') };
  } catch {
    return { listenOverflows: NaN, listenDrops: NaN, synCookies: NaN };
  }
}

export async function waitFor<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs: number, intervalMs = 250): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? ` (last error: ${String(lastError)})` : ''}`);
    await sleep(intervalMs);
  }
}

/** Keeps a child's output: the last lines for error reports, and warn/error counts per message (JSON logs). */
export class OutputLog {
  readonly tail: string[] = [];
  readonly counts = new Map<string, number>();
  /** The first few lines of each kind, for evidence (they carry ts and clientId). */
  readonly samples = new Map<string, string[]>();
  private partial = '';
  constructor(readonly label: string) {}

  feed(chunk: Buffer | string): void {
    const lines = (this.partial + chunk.toString()).split('\n');
    this.partial = lines.pop() ?? '';
    for (const line of lines) {
      if (!line.trim()) continue;
      this.tail.push(line);
      if (this.tail.length > 50) this.tail.shift();
      let key = line.slice(0, 120);
      try {
        const parsed = JSON.parse(line) as { level?: string; msg?: string; reason?: string };
        key = `${parsed.level ?? '?'}: ${parsed.msg ?? ''}${parsed.reason ? ` (${parsed.reason})` : ''}`;
      } catch {
        // not JSON (banner lines): counted by their start
      }
      this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
      const kept = this.samples.get(key) ?? [];
      if (kept.length < 5) this.samples.set(key, [...kept, line]);
    }
  }

  summary(): Record<string, number> {
    return Object.fromEntries([...this.counts].sort((a, b) => b[1] - a[1]).slice(0, 20));
  }
}

export interface RunningProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly output: OutputLog;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves with how long the exit took. */
  stop(graceMs?: number): Promise<{ ms: number; code: number | null; signal: string | null; killed: boolean }>;
}

export function startProcess(label: string, args: string[], env: Record<string, string> = {}): RunningProcess {
  const child = spawn(process.execPath, args, { cwd: REPO_ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const output = new OutputLog(label);
  child.stdout?.on('data', (d: Buffer) => output.feed(d));
  child.stderr?.on('data', (d: Buffer) => output.feed(d));
  const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  if (child.pid === undefined) throw new Error(`could not start ${label}`);
  return {
    child,
    pid: child.pid,
    output,
    async stop(graceMs = 15_000) {
      const started = performance.now();
      if (child.exitCode !== null || child.signalCode !== null) return { ms: 0, ...(await exited), killed: false };
      child.kill('SIGTERM');
      let killed = false;
      const timer = setTimeout(() => {
        killed = true;
        child.kill('SIGKILL');
      }, graceMs);
      const result = await exited;
      clearTimeout(timer);
      return { ms: performance.now() - started, ...result, killed };
    },
  };
}

export interface ControlPlaneProcess extends RunningProcess {
  readonly url: string;
  /** Milliseconds from spawn until /api/health answered. */
  readonly startupMs: number;
}

export async function startControlPlaneProcess(opts: { port: number; mqttPort: number; dataDir: string; adminPassword: string; env?: Record<string, string> }): Promise<ControlPlaneProcess> {
  const started = performance.now();
  // EDGEHOOK_BENCH_CP_NODE_ARGS, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof", for looking inside a run.
  const nodeArgs = (process.env['EDGEHOOK_BENCH_CP_NODE_ARGS'] ?? '').split(' ').filter(Boolean);
  const args = [...nodeArgs, CP_MAIN, 'serve', '--port', String(opts.port), '--mqtt-port', String(opts.mqttPort), '--data-dir', opts.dataDir, '--log-level', 'warn', '--log-format', 'json'];
  const proc = startProcess('control-plane', args, { ...opts.env, EDGEHOOK_ADMIN_PASSWORD: opts.adminPassword });
  const url = `http://127.0.0.1:${opts.port}`;
  try {
    await waitFor(
      'control plane /api/health',
      async () => {
        if (proc.child.exitCode !== null) throw new Error(`control plane exited with ${proc.child.exitCode}:\n${proc.output.tail.join('\n')}`);
        const res = await fetch(`${url}/api/health`, { signal: AbortSignal.timeout(1000) });
        return res.ok ? true : undefined;
      },
      30_000,
      50,
    );
  } catch (err) {
    await proc.stop(1000);
    throw err;
  }
  return Object.assign(proc, { url, startupMs: performance.now() - started });
}

/**
 * Enrolls one real agent process (simulated board unless `args` says otherwise) with a fresh
 * single-use token and waits until the control plane lists it online; returns it with its id.
 */
export async function startEnrolledAgent(
  api: { base: string; enrollmentToken(maxUses: number): Promise<string>; call(method: string, path: string): Promise<{ body: unknown }> },
  opts: { stateDir: string; hostname: string; args?: string[] },
): Promise<{ agent: RunningProcess; deviceId: string }> {
  const token = await api.enrollmentToken(1);
  // EDGEHOOK_BENCH_AGENT_NODE_ARGS, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof", for looking inside a run.
  const nodeArgs = (process.env['EDGEHOOK_BENCH_AGENT_NODE_ARGS'] ?? '').split(' ').filter(Boolean);
  const agent = startProcess('agent', [...nodeArgs, AGENT_MAIN, '--server', api.base, '--enroll', token, '--state-dir', opts.stateDir, '--profile', 'simulated', '--hostname', opts.hostname, '--log-format', 'json', '--log-level', 'warn', ...(opts.args ?? [])]);
  const deviceId = await waitFor(
    'agent online',
    async () => {
      if (agent.child.exitCode !== null) throw new Error(`the agent exited with ${agent.child.exitCode}:\n${agent.output.tail.join('\n')}`);
      const { body } = await api.call('GET', '/api/devices');
      if (!Array.isArray(body)) return undefined;
      for (const d of body) if (typeof d === 'object' && d !== null && d.hostname === opts.hostname && d.online === true && typeof d.id === 'string') return d.id;
      return undefined;
    },
    30_000,
  );
  return { agent, deviceId };
}
