import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { dynsecInitialConfig } from '../../src/broker/dynsec-file.js';

const MOSQUITTO = ['/usr/sbin/mosquitto', '/usr/bin/mosquitto'];

/** The Debian mosquitto binary and its dynamic security plugin, or why they are missing. */
export function findMosquitto(): { bin: string; plugin: string } | { missing: string } {
  const bin = MOSQUITTO.find((p) => existsSync(p));
  if (!bin) return { missing: 'no mosquitto binary (apt-get install mosquitto)' };
  for (const dir of ['/usr/lib', ...readdirSync('/usr/lib').filter((d) => d.endsWith('-linux-gnu')).map((d) => join('/usr/lib', d))]) {
    const plugin = join(dir, 'mosquitto_dynamic_security.so');
    if (existsSync(plugin)) return { bin, plugin };
  }
  return { missing: 'mosquitto_dynamic_security.so not found (the mosquitto package ships it)' };
}

/** CI=true turns a missing Mosquitto into a failure; elsewhere the caller skips with the reason. */
export function requireMosquitto(): { bin: string; plugin: string } | undefined {
  const found = findMosquitto();
  if ('missing' in found) {
    if (process.env['CI'] === 'true') throw new Error(`Mosquitto is required in CI: ${found.missing}`);
    process.stdout.write(`skipping Mosquitto tests: ${found.missing}\n`);
    return undefined;
  }
  return found;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ port, host: '127.0.0.1' });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

export interface TestMosquitto {
  url: string;
  port: number;
  dir: string;
  admin: { username: string; password: string };
  /** The broker's log so far (stderr and log file). */
  output(): string;
  pid(): number | undefined;
  /** SIGKILL (crash) or SIGTERM, then start again on the same port with the same dynsec file. */
  restart(opts?: { signal?: NodeJS.Signals }): Promise<void>;
  stopProcess(signal?: NodeJS.Signals): Promise<void>;
  startProcess(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * A real Mosquitto on a free port in a temp dir, with the dynamic security plugin and a generated
 * admin account (the file `mosquitto_ctrl dynsec init` writes, produced here so the password never
 * appears in argv). `confTemplate` lets a test start from docs/deploy's mosquitto.conf instead.
 */
export async function startMosquitto(
  found: { bin: string; plugin: string },
  opts: { conf?: (p: { port: number; plugin: string; dynsecFile: string }) => string; port?: number; dynsec?: (config: { clients: unknown[]; roles: unknown[] }) => void } = {},
): Promise<TestMosquitto> {
  const dir = await mkdtemp(join(tmpdir(), 'edgehook-mosquitto-'));
  const port = opts.port ?? (await freePort());
  const admin = { username: 'edgehook-admin', password: randomBytes(18).toString('base64url') };
  const dynsecFile = join(dir, 'dynamic-security.json');
  const initial = dynsecInitialConfig(admin) as { clients: unknown[]; roles: unknown[] };
  opts.dynsec?.(initial);
  await writeFile(dynsecFile, JSON.stringify(initial, null, 2), { mode: 0o600 });
  const conf =
    opts.conf?.({ port, plugin: found.plugin, dynsecFile }) ??
    [`listener ${port} 127.0.0.1`, 'allow_anonymous false', `plugin ${found.plugin}`, `plugin_opt_config_file ${dynsecFile}`, 'persistence false', 'log_dest stderr', 'log_type error', 'log_type warning', 'log_type all', 'max_queued_messages 100000', ''].join('\n');
  const confFile = join(dir, 'mosquitto.conf');
  await writeFile(confFile, conf);
  // Run as root, mosquitto drops to the `mosquitto` user, which must be able to rewrite the dynsec file.
  if (process.getuid?.() === 0) {
    execFileSync('chown', ['-R', 'mosquitto', dir]);
    await chmod(dir, 0o700);
  }
  let child: ChildProcess | undefined;
  let out = '';
  const startProcess = async (): Promise<void> => {
    const c = spawn(found.bin, ['-c', confFile], { stdio: ['ignore', 'pipe', 'pipe'] });
    child = c;
    // A test process that dies without its after hook must not leave a broker behind.
    const reap = (): void => void c.kill('SIGKILL');
    process.once('exit', reap);
    c.once('exit', () => process.off('exit', reap));
    c.stdout?.on('data', (d) => (out += d));
    c.stderr?.on('data', (d) => (out += d));
    const deadline = Date.now() + 15_000;
    while (!(await accepts(port))) {
      if (c.exitCode !== null) throw new Error(`mosquitto exited (${c.exitCode}): ${out}`);
      if (Date.now() > deadline) throw new Error(`mosquitto did not listen on ${port}: ${out}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  const stopProcess = async (signal: NodeJS.Signals = 'SIGTERM'): Promise<void> => {
    const c = child;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    const gone = new Promise<void>((resolve) => c.once('exit', () => resolve()));
    c.kill(signal);
    await gone;
  };
  await startProcess();
  return {
    url: `mqtt://127.0.0.1:${port}`,
    port,
    dir,
    admin,
    output: () => out,
    pid: () => child?.pid,
    startProcess,
    stopProcess,
    async restart(o = {}) {
      await stopProcess(o.signal ?? 'SIGKILL');
      await startProcess();
    },
    async stop() {
      await stopProcess('SIGTERM');
      await rm(dir, { recursive: true, force: true });
    },
  };
}
