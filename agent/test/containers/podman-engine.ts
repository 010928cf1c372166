import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, copyFile, mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startTestRegistry, writeRegistriesConf, type TestRegistry } from './oci-registry.js';

const run = promisify(execFile);

/** The tiny local image every engine test uses (no registry is reachable). */
export const TEST_IMAGE = 'localhost/edgehook-test/busybox:latest';

export interface TestEngine {
  /** The Docker-compatible API socket of a private Podman service. */
  socket: string;
  image: string;
  /** Which storage driver worked here (overlay, else vfs). */
  storageDriver: string;
  /** With `registry: true`: a local registry the service may pull from (registries.conf marks it insecure). */
  registry?: TestRegistry;
  stop(): Promise<void>;
}

const BUSYBOX = '/bin/busybox';
const APPLETS = ['sh', 'echo', 'cat', 'sleep', 'yes', 'head', 'tail', 'dd', 'ls', 'true', 'false', 'env', 'printf', 'kill', 'trap', 'wc', 'mkdir', 'rm', 'id', 'ps', 'seq'];

function findPodman(): string | null {
  for (const dir of (process.env['PATH'] ?? '/usr/bin:/bin').split(':')) if (dir && existsSync(join(dir, 'podman'))) return join(dir, 'podman');
  return null;
}

/**
 * Starts a private Podman service (its own storage, config and socket in a temp dir) with a busybox
 * image imported from the host's busybox-static. Returns null when podman or busybox is missing,
 * except in CI (CI=true), where that is an error: engine tests must not silently skip there.
 *
 * Sandbox quirks handled: runc instead of crun, no default ulimits (the sandbox refuses raising
 * RLIMIT_NOFILE), cgroupfs instead of systemd, file event log (no journald), overlay storage with a
 * vfs fallback, and the overlay home mount left behind by a killed service is unmounted on stop.
 * Each call gets fresh storage in a new temp dir (an import takes ~0.1 s, so nothing is cached and
 * concurrent test files never see each other's containers). The service runs under a watchdog shell
 * that stops it if this process dies without stop(); the next start sweeps such leftovers.
 */
export async function startTestEngine(opts: { registry?: boolean } = {}): Promise<TestEngine | null> {
  const podman = findPodman();
  const missing = [podman ? null : 'podman', existsSync(BUSYBOX) ? null : `${BUSYBOX} (busybox-static)`].filter((m) => m !== null);
  if (!podman || missing.length) {
    if (process.env['CI'] === 'true') throw new Error(`container engine tests need ${missing.join(' and ')} (apt-get install podman runc busybox-static)`);
    return null;
  }
  await sweepStale();
  const dir = await mkdtemp(join(tmpdir(), 'edgehook-podman-'));
  const conf = join(dir, 'containers.conf');
  await writeFile(
    conf,
    ['[engine]', 'runtime = "runc"', 'cgroup_manager = "cgroupfs"', 'events_logger = "file"', `events_logfile_path = "${join(dir, 'events.log')}"`, '[containers]', 'default_ulimits = []', ''].join('\n'),
  );
  const env: NodeJS.ProcessEnv = { ...process.env, CONTAINERS_CONF: conf };
  const tar = await buildRootfs(dir);
  let registry: TestRegistry | undefined;
  if (opts.registry) {
    registry = await startTestRegistry({ rootfs: join(dir, 'rootfs'), workDir: join(dir, 'registry') });
    env['CONTAINERS_REGISTRIES_CONF'] = join(dir, 'registries.conf');
    await writeRegistriesConf(env['CONTAINERS_REGISTRIES_CONF'], [registry.host]);
  }
  let driver = '';
  let lastErr: unknown;
  for (const candidate of ['overlay', 'vfs']) {
    const base = storageArgs(dir, candidate);
    try {
      await run(podman, [...base, 'import', '--change', 'CMD=["/bin/sh"]', tar, TEST_IMAGE], { env });
      driver = candidate;
      break;
    } catch (err) {
      lastErr = err;
      await unmountUnder(dir);
      await rm(join(dir, 'root'), { recursive: true, force: true });
      await rm(join(dir, 'run'), { recursive: true, force: true });
    }
  }
  if (!driver) {
    await registry?.close();
    await cleanup(dir);
    throw new Error(`podman could not import the test image with overlay or vfs storage: ${errText(lastErr)}`);
  }
  const socket = join(dir, 'podman.sock');
  const args = [...storageArgs(dir, driver), 'system', 'service', '--time=0', `unix://${socket}`];
  // Through a watchdog shell: it stops the service when our end of its stdin closes, which also
  // happens when this test process dies without running stop() (no orphaned services).
  const child = spawn('/bin/sh', ['-c', WATCHDOG, 'podman-watchdog', podman, ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  let servicePid = 0;
  child.stdout?.once('data', (d: Buffer) => {
    servicePid = Number(d.toString().trim()) || 0;
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stopService = (): Promise<void> => stopChild(child, exited, () => servicePid);
  try {
    await waitForPing(socket, child, () => stderr);
  } catch (err) {
    await stopService();
    await registry?.close();
    await cleanup(dir);
    throw err;
  }
  let stopped = false;
  return {
    socket,
    image: TEST_IMAGE,
    storageDriver: driver,
    ...(registry ? { registry } : {}),
    stop: async () => {
      if (stopped) return;
      stopped = true;
      // The watchdog stops the service and removes every container it made.
      await stopService();
      await registry?.close();
      await cleanup(dir);
    },
  };
}

/** Removes what a test process that died without stop() left behind (its service is gone already). */
async function sweepStale(): Promise<void> {
  const names = await readdir(tmpdir()).catch(() => [] as string[]);
  for (const name of names.filter((n) => n.startsWith('edgehook-podman-'))) {
    const dir = join(tmpdir(), name);
    const age = Date.now() - ((await stat(dir).catch(() => null))?.mtimeMs ?? Date.now());
    if (age < 120_000) continue; // maybe another test process starting right now
    if (existsSync(join(dir, 'podman.sock')) && (await ping(join(dir, 'podman.sock')))) continue;
    await cleanup(dir);
  }
}

function storageArgs(dir: string, driver: string): string[] {
  return ['--root', join(dir, 'root'), '--runroot', join(dir, 'run'), '--storage-driver', driver];
}

/** A root filesystem: busybox-static, its applets as symlinks, and /bin/exit (exits with $1). */
async function buildRootfs(dir: string): Promise<string> {
  const root = join(dir, 'rootfs');
  for (const d of ['bin', 'etc', 'tmp', 'proc', 'sys', 'dev', 'data']) await mkdir(join(root, d), { recursive: true });
  await copyFile(BUSYBOX, join(root, 'bin', 'busybox'));
  for (const a of APPLETS) await symlink('busybox', join(root, 'bin', a));
  await writeFile(join(root, 'bin', 'exit'), '#!/bin/sh\nexit "${1:-0}"\n');
  await chmod(join(root, 'bin', 'exit'), 0o755);
  await writeFile(join(root, 'etc', 'passwd'), 'root:x:0:0:root:/:/bin/sh\n');
  await writeFile(join(root, 'etc', 'group'), 'root:x:0:\n');
  const tar = join(dir, 'rootfs.tar');
  await run('tar', ['-C', root, '-cf', tar, '.']);
  return tar;
}

async function waitForPing(socket: string, child: ChildProcess, stderr: () => string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`podman system service exited (${child.exitCode ?? child.signalCode}): ${stderr()}`);
    if (existsSync(socket) && (await ping(socket))) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`podman system service did not answer /_ping within 60 s: ${stderr()}`);
}

function ping(socket: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.get({ socketPath: socket, path: '/_ping', agent: false }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
  });
}

/**
 * Runs the service (`$1` is podman, `$2..$7` the storage flags) with stdin from /dev/null, prints its
 * pid, and once its own stdin ends stops it and removes every container of that storage (containers
 * run under conmon, not under the service, so they would outlive it).
 */
const WATCHDOG = [
  'p=$1; r=$3; rr=$5; d=$7',
  '"$@" </dev/null >/dev/null & pid=$!; echo $pid',
  'while read -r _; do :; done',
  'kill -TERM $pid 2>/dev/null; wait $pid',
  '"$p" --root "$r" --runroot "$rr" --storage-driver "$d" rm --all --force --time 0 >/dev/null 2>&1',
  'exit 0',
].join('; ');

async function stopChild(child: ChildProcess, exited: Promise<void>, servicePid: () => number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.stdin?.end();
  const timer = setTimeout(() => {
    const pid = servicePid();
    if (pid > 0) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    child.kill('SIGKILL');
  }, 30_000);
  await exited;
  clearTimeout(timer);
}

/** Unmounts what storage left mounted under `dir` (deepest first), then removes it. */
async function cleanup(dir: string): Promise<void> {
  await unmountUnder(dir);
  await rm(dir, { recursive: true, force: true }).catch(() => undefined);
}

async function unmountUnder(dir: string): Promise<void> {
  let mounts: string[] = [];
  try {
    mounts = (await readFile('/proc/self/mountinfo', 'utf8'))
      .split('\n')
      .map((l) => l.split(' ')[4] ?? '')
      .filter((p) => p.startsWith(dir + '/'));
  } catch {
    return;
  }
  for (const m of mounts.sort((a, b) => b.length - a.length)) await run('umount', ['-l', m]).catch(() => undefined);
}

function errText(err: unknown): string {
  if (typeof err === 'object' && err !== null && 'stderr' in err && typeof err.stderr === 'string' && err.stderr) return err.stderr.trim();
  return err instanceof Error ? err.message : String(err);
}
