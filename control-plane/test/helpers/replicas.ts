import { spawn, type ChildProcess } from 'node:child_process';
import { CP_MAIN, tempDir, waitFor } from './harness.js';
import { startPostgres } from './stores.js';

export interface Replica {
  url: string;
  child: ChildProcess;
  dataDir: string;
  output(): string;
  /** kill -9: no clean shutdown, no goodbye to the broker. */
  crash(): Promise<void>;
  stop(): Promise<void>;
}

const started = new Set<ChildProcess>();

/** A real `edgehook serve` process on an external broker and a shared store (several make a cluster). */
export async function startReplica(opts: { brokerUrl: string; username: string; password: string; database: string; env?: Record<string, string>; args?: string[] }): Promise<Replica> {
  const dataDir = await tempDir('edgehook-replica-');
  const args = ['--port', '0', '--data-dir', dataDir, '--database', opts.database, '--broker', opts.brokerUrl, '--broker-username', opts.username, '--log-format', 'json', ...(opts.args ?? [])];
  return startServe(args, { EDGEHOOK_BROKER_PASSWORD: opts.password, ...opts.env }, dataDir);
}

/** `edgehook serve` with exactly these flags and environment (plus the test admin password). */
export async function startServe(flags: string[], env: Record<string, string>, dataDir: string): Promise<Replica> {
  const child = spawn(process.execPath, [CP_MAIN, 'serve', ...flags], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, EDGEHOOK_ADMIN_PASSWORD: 'admin-test-password', ...env },
  });
  started.add(child);
  let out = '';
  child.stdout?.on('data', (d) => (out += d));
  child.stderr?.on('data', (d) => (out += d));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = await waitFor(
    'replica listening',
    () => {
      if (child.exitCode !== null) throw new Error(`replica exited ${child.exitCode}: ${out}`);
      return /"msg":"control plane listening".*?"url":"([^"]+)"/.exec(out)?.[1];
    },
    30_000,
  ).catch((err: unknown) => {
    child.kill('SIGKILL');
    throw new Error(`${err instanceof Error ? err.message : String(err)}; its output: ${out.slice(-3000)}`);
  });
  return {
    url,
    child,
    dataDir,
    output: () => out,
    async crash() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

export async function killAllReplicas(): Promise<void> {
  for (const c of started) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  started.clear();
}

/** A fresh database on a throwaway PostgreSQL server (or EDGEHOOK_TEST_POSTGRES_URL). */
export async function throwawayPostgres(): Promise<{ url: string; stop(): Promise<void> } | { missing: string }> {
  const server = await startPostgres();
  if ('missing' in server) return server;
  const { default: pg } = await import('pg');
  const name = `edgehook_replicas_${process.pid}`;
  const admin = new pg.Client({ connectionString: server.url });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${name}`);
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(server.url);
  url.pathname = `/${name}`;
  return { url: url.toString(), stop: () => server.stop() };
}
