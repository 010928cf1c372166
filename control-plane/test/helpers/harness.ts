import { spawn, type ChildProcess } from 'node:child_process';
import { createServer as createNetServer } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createLogger, type Clock, type Logger } from '@edgehook/shared';
import type { ControlPlaneOverrides, RunningControlPlane } from '../../src/control-plane.js';
import { loadServeConfig } from '../../src/config.js';

export const ADMIN_PASSWORD = 'admin-test-password';
export const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
export const AGENT_MAIN = join(repoRoot, 'agent/dist/main.js');
export const CP_MAIN = join(repoRoot, 'control-plane/dist/main.js');

export async function tempDir(prefix = 'edgehook-test-'): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

/** Captures the control plane's log lines, so tests can assert on what it logged. */
export function memoryLogger(): { log: Logger; lines: string[] } {
  const lines: string[] = [];
  const log = createLogger({ level: process.env['EDGEHOOK_TEST_LOG'] === 'debug' ? 'debug' : 'info', format: 'json', write: (l) => lines.push(l) });
  return { log, lines };
}

export interface TestControlPlane extends RunningControlPlane {
  dataDir: string;
  logs: string[];
}

/** A real control plane in this process: free HTTP and MQTT ports, SQLite in a temp dir. */
export async function startTestControlPlane(opts: { dataDir?: string; env?: Record<string, string>; args?: string[]; clock?: Clock; wrapIngestWriter?: ControlPlaneOverrides['wrapIngestWriter']; wsi?: ControlPlaneOverrides['wsi']; vpn?: ControlPlaneOverrides['vpn']; overrides?: Pick<ControlPlaneOverrides, 'agentUpdater' | 'jobs'> } = {}): Promise<TestControlPlane> {
  const dataDir = opts.dataDir ?? (await tempDir());
  const config = loadServeConfig(['--port', '0', '--mqtt-port', '0', '--data-dir', dataDir, ...(opts.args ?? [])], {
    EDGEHOOK_ADMIN_PASSWORD: ADMIN_PASSWORD,
    ...opts.env,
  });
  const { log, lines } = memoryLogger();
  // Loaded here, not at the top: files that only run the app in memory (memory-app.ts) skip the broker's and servers' modules.
  const { startControlPlane } = await import('../../src/control-plane.js');
  // Every REST answer in the suite is checked against the result its route declares (shared/src/rest/).
  const cp = await startControlPlane(config, { log, checkResponses: true, ...(opts.clock ? { clock: opts.clock } : {}), ...(opts.wrapIngestWriter ? { wrapIngestWriter: opts.wrapIngestWriter } : {}), ...(opts.wsi ? { wsi: opts.wsi } : {}), ...(opts.vpn ? { vpn: opts.vpn } : {}), ...opts.overrides });
  return Object.assign(cp, { dataDir, logs: lines });
}

export interface Api {
  base: string;
  token: string;
  request(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<{ status: number; body: any; headers: Headers }>;
}

/** A control plane's address: a URL (the global fetch), or one that brings its own fetch (helpers/memory-app.ts). */
export type Target = string | { url: string; fetch?: typeof fetch };

function reach(target: Target): { base: string; fetch: typeof fetch } {
  return typeof target === 'string' ? { base: target, fetch } : { base: target.url, fetch: target.fetch ?? fetch };
}

export function apiClient(target: Target, token: string): Api {
  const { base, fetch } = reach(target);
  return {
    base,
    token,
    async request(method, path, body, headers = {}) {
      const init: RequestInit = { method, headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers } };
      if (body !== undefined) {
        init.body = typeof body === 'string' ? body : JSON.stringify(body);
        init.headers = { 'content-type': 'application/json', ...init.headers };
      }
      const res = await fetch(base + path, init);
      const text = await res.text();
      let parsed: unknown = text;
      try {
        parsed = text ? JSON.parse(text) : null;
      } catch {
        // leave as text
      }
      return { status: res.status, body: parsed, headers: res.headers };
    },
  };
}

export async function login(target: Target, username = 'admin', password = ADMIN_PASSWORD): Promise<{ accessToken: string; refreshToken: string }> {
  const { base, fetch } = reach(target);
  const res = await fetch(base + '/api/auth/login', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username, password }) });
  if (res.status !== 200) throw new Error(`login failed: ${res.status} ${await res.text()}`);
  return (await res.json()) as { accessToken: string; refreshToken: string };
}

export async function adminApi(cp: Exclude<Target, string>): Promise<Api> {
  return apiClient(cp, (await login(cp)).accessToken);
}

export async function createEnrollmentToken(api: Api, body: Record<string, unknown> = {}): Promise<string> {
  const res = await api.request('POST', '/api/enrollment-tokens', body);
  if (res.status !== 201) throw new Error(`token creation failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.token;
}

/** Polls until `check` returns a truthy value, or fails with `what`. */
export async function waitFor<T>(what: string, check: () => Promise<T> | T, timeoutMs = 10_000, everyMs = 50): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await check();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`timed out waiting for ${what}${last ? ` (last error: ${last instanceof Error ? last.message : String(last)})` : ''}`);
}

export interface AgentProcess {
  child: ChildProcess;
  stateDir: string;
  output: () => string;
  waitForOutput(pattern: RegExp, timeoutMs?: number): Promise<void>;
  /** SIGTERM and wait for exit. */
  stop(): Promise<number | null>;
  exited: Promise<number | null>;
}

const spawned = new Set<ChildProcess>();

/** Kills every agent process a test started and did not stop (call from `after` hooks: failed tests skip their own cleanup). */
export async function killAllAgents(): Promise<void> {
  const waits = [...spawned].map((child) => {
    if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
    const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGKILL');
    return gone;
  });
  await Promise.all(waits);
  spawned.clear();
}

/** A real agent process (the built agent/dist/main.js). */
export function spawnAgent(opts: { server?: string; token?: string; stateDir: string; profile?: string; hostname?: string; extraArgs?: string[]; env?: Record<string, string>; main?: string }): AgentProcess {
  const args = [opts.main ?? AGENT_MAIN, '--state-dir', opts.stateDir, '--profile', opts.profile ?? 'simulated', '--log-format', 'json'];
  if (opts.server) args.push('--server', opts.server);
  if (opts.token) args.push('--enroll', opts.token);
  if (opts.hostname) args.push('--hostname', opts.hostname);
  args.push(...(opts.extraArgs ?? []));
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...opts.env } });
  spawned.add(child);
  child.once('exit', () => spawned.delete(child));
  let out = '';
  child.stdout?.on('data', (d) => (out += d));
  child.stderr?.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    child,
    stateDir: opts.stateDir,
    output: () => out,
    exited,
    waitForOutput: (pattern, timeoutMs = 10_000) => waitFor(`agent output ${pattern}`, () => pattern.test(out), timeoutMs).then(() => undefined),
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

/** Enrolls a fresh agent process and waits until the control plane sees it online. */
export async function enrolledAgent(cp: { url: string }, api: Api, opts: { hostname?: string; profile?: string } = {}): Promise<AgentProcess & { deviceId: string }> {
  const token = await createEnrollmentToken(api);
  const stateDir = await tempDir('edgehook-agent-');
  const agent = spawnAgent({ server: cp.url, token, stateDir, hostname: opts.hostname ?? `dev-${Math.random().toString(36).slice(2, 8)}`, ...(opts.profile ? { profile: opts.profile } : {}) });
  const deviceId = await waitFor('agent enrollment', async () => /"deviceId":"([^"]+)"/.exec(agent.output())?.[1], 15_000);
  await waitFor('device online', async () => (await api.request('GET', `/api/devices/${deviceId}`)).body?.online === true, 15_000);
  return Object.assign(agent, { deviceId });
}

export async function cleanup(...dirs: string[]): Promise<void> {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
}

export interface SuiteContext {
  cp: TestControlPlane;
  api: Api;
}

/** Gives a uvu suite a fresh control plane and an admin API client, torn down with every agent it spawned. */
export function withControlPlane(s: { before(fn: (ctx: SuiteContext) => Promise<void>): void; after(fn: (ctx: SuiteContext) => Promise<void>): void }): void {
  s.before(async (ctx) => {
    ctx.cp = await startTestControlPlane();
    ctx.api = await adminApi(ctx.cp);
  });
  s.after(async (ctx) => {
    await killAllAgents();
    await ctx.cp.close();
    await cleanup(ctx.cp.dataDir);
  });
}

export const SAMPLE_DESCRIPTION = { hostname: 'pi-a', profile: 'simulated', agentVersion: '0.1.0', hardware: { arch: 'arm64', platform: 'linux', cpus: 4, memTotalBytes: 4e9 } };

/** `POST /api/enroll` as a device would send it. */
export function enrollRaw(cp: { url: string }, token: string, body: unknown = SAMPLE_DESCRIPTION): Promise<Response> {
  return fetch(cp.url + '/api/enroll', { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify(body) });
}

/** Test assertions read response bodies loosely; the product code validates with zod. */
export function jsonOf(res: Response): Promise<any> {
  return res.json();
}

/** The built `edgehook` CLI as a child process with its own config dir (the stored login). */
export function runCli(config: string, args: string[], env: Record<string, string> = {}, input?: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [CP_MAIN, ...args], { env: { ...process.env, EDGEHOOK_CONFIG_DIR: config, ...env }, stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
  if (input !== undefined) child.stdin?.end(input);
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d) => (stdout += d));
  child.stderr?.on('data', (d) => (stderr += d));
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, stdout, stderr })));
}

/** `edgehook serve` in its own process (so a test can kill -9 it). */
export function serveProcess(args: string[], env: Record<string, string> = {}): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
  const child = spawn(process.execPath, [CP_MAIN, 'serve', '--log-format', 'json', ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, EDGEHOOK_ADMIN_PASSWORD: ADMIN_PASSWORD, ...env } });
  spawned.add(child);
  child.once('exit', () => spawned.delete(child));
  let out = '';
  child.stdout?.on('data', (d) => (out += d));
  child.stderr?.on('data', (d) => (out += d));
  return { child, output: () => out, exited: new Promise((r) => child.once('exit', (code) => r(code))) };
}

export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createNetServer().listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
    });
  });
}
