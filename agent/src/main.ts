import { createLogger, systemClock } from '@edgehook/shared';
import { defaultProfileDirs, loadProfiles } from '@edgehook/firmware-profiles';
import { ConfigError, ConfigInfo, loadAgentConfig } from './config.js';
import { AGENT_VERSION, runAgent } from './agent.js';
import { LogRing } from './hardware/log/log-ring.js';
import { nodePtyFactory } from './pty/node-pty.factory.js';
import { simulatedPtyFactory } from './pty/simulated-pty.factory.js';
import { existsSync } from 'node:fs';
import { Socket } from 'node:net';
import { acquireStateLock, StateLockedError } from './system/state-lock.js';
import { readFile, rm } from 'node:fs/promises';
import { CredentialsStore } from './devices/credentials.store.js';
import { enroll, nodePostJson } from './devices/enrollment.js';
import { describeSystem } from './system/describe.js';
import type { AgentConfig } from './config.js';
import { nodeCrypto } from '@edgehook/shared/node-builtins';
import type { TlsTrust } from '@edgehook/shared/transport';
import type { ContainerRuntime } from './containers/container-runtime.js';
import { resolveDockerSocket, unavailableRuntime } from './containers/engine-socket.js';
import { RESTART_EXIT_CODE } from './updates/install-layout.js';

/** The CA file, read and checked once: a bad file is a clear error at start, not a TLS failure later. */
async function loadTrust(tls: { caFile: string | undefined; fingerprint: string | undefined }): Promise<TlsTrust> {
  if (!tls.caFile) return { fingerprint: tls.fingerprint };
  let ca: string;
  try {
    ca = await readFile(tls.caFile, 'utf8');
    new (nodeCrypto().X509Certificate)(ca);
  } catch (err) {
    process.stderr.write(`--ca ${tls.caFile}: not a readable PEM certificate (${err instanceof Error ? err.message : String(err)})\n`);
    process.exit(2);
  }
  return { ca, fingerprint: tls.fingerprint };
}

/** The first line of the file (or stdin for `-`), bounded: a token never travels on argv. */
async function readTokenFile(path: string): Promise<string | undefined> {
  let text: string;
  try {
    if (path === '-') {
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of process.stdin) {
        const b = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
        chunks.push(b);
        size += b.length;
        if (size > 4096 || b.includes(10)) break;
      }
      text = Buffer.concat(chunks).toString('utf8');
    } else {
      text = (await readFile(path)).subarray(0, 4096).toString('utf8');
    }
  } catch (err) {
    if (err instanceof Error && 'code' in err && err.code === 'ENOENT') return undefined;
    process.stderr.write(`--enroll-token-file ${path}: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(2);
  }
  const token = text.split('\n')[0]?.trim() ?? '';
  if (token.length < 10) {
    process.stderr.write(`--enroll-token-file ${path}: no enrollment token in it\n`);
    process.exit(2);
  }
  return token;
}

/** `--enroll-only`: trade the token for credentials and exit; a device already enrolled keeps its own. */
async function enrollOnly(config: AgentConfig, tls: TlsTrust): Promise<number> {
  const store = new CredentialsStore(config.stateDir);
  const saved = await store.load();
  if (saved) {
    process.stdout.write(`already enrolled as ${saved.name} (${saved.deviceId}); credentials kept\n`);
    return 0;
  }
  if (!config.server || !config.enrollToken) {
    process.stderr.write('--enroll-only needs --server and a token (--enroll-token-file or EDGEHOOK_ENROLL_TOKEN)\n');
    return 2;
  }
  try {
    const description = await describeSystem({ hostname: config.hostname, profile: config.profile, agentVersion: AGENT_VERSION });
    const res = await enroll(config.server, config.enrollToken, description, nodePostJson(tls));
    await store.save({ deviceId: res.deviceId, name: res.name, server: config.server, mqtt: res.mqtt, enrolledAt: new Date().toISOString(), ...(res.packageKey ? { packageKey: res.packageKey } : {}) });
    process.stdout.write(`enrolled as ${res.name} (${res.deviceId})\n`);
    return 0;
  } catch (err) {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
}

/** Composition root: the only place that builds real dependencies. */
async function main(): Promise<void> {
  let config: AgentConfig;
  try {
    config = loadAgentConfig(process.argv.slice(2), process.env);
  } catch (err) {
    if (err instanceof ConfigInfo) {
      process.stdout.write(err.message + '\n');
      process.exit(0);
    }
    if (err instanceof ConfigError) {
      process.stderr.write(err.message + '\n');
      process.exit(2);
    }
    throw err;
  }
  // The agent's log also goes to a bounded ring, which the `log` RPC (PiKVM /api/log) serves.
  const logRing = new LogRing();
  const log = createLogger({
    level: config.logLevel,
    format: config.logFormat,
    base: { app: 'agent' },
    write: (line) => {
      logRing.push(line);
      process.stderr.write(line + '\n');
    },
  });
  const tls = await loadTrust(config.tls);
  if (config.enrollTokenFile && !config.enrollToken) config = { ...config, enrollToken: await readTokenFile(config.enrollTokenFile) };
  if (config.enrollOnly) {
    process.exitCode = await enrollOnly(config, tls);
    return;
  }
  const profiles = await loadProfiles(defaultProfileDirs());
  if (!profiles.has(config.profile)) {
    process.stderr.write(`edgehook-agent: unknown board profile ${JSON.stringify(config.profile)} (--profile); known profiles: ${profiles.list().map((p) => p.id).join(', ')}\n`);
    process.exit(2);
  }
  // Containers: the Docker API socket found (or given), the simulated engine, or a runtime that says
  // "no engine" on every call while the rest of the agent keeps working. The engine client is
  // imported on the first container call (issue 12's lean agent); the socket is chosen now.
  let containerRuntime: () => Promise<ContainerRuntime>;
  if (config.containerEngine === 'simulated') {
    containerRuntime = async () => new (await import('./containers/simulated.runtime.js')).SimulatedContainerRuntime({ clock: systemClock });
  } else {
    const choice = resolveDockerSocket({ flag: config.dockerSocket, env: process.env, exists: existsSync, uid: process.getuid?.() });
    const socket = choice.socket;
    if (socket) {
      containerRuntime = async () => new (await import('./containers/docker-engine.runtime.js')).DockerEngineRuntime(socket);
      log.info('container engine socket', { socket });
    } else {
      const runtime = unavailableRuntime(choice.tried);
      containerRuntime = async () => runtime;
      log.warn('no container engine: container calls will fail until one runs (start Docker or `podman system service`, or start edgehook-agent with --docker-socket PATH)', { tried: choice.tried });
    }
  }
  // Started by a parent that holds the other end (the control plane's demo device): when the
  // parent dies, even by kill -9, the kernel closes the socket and we go too. Watched from the
  // start, so a parent that dies while we are still enrolling or connecting takes us along.
  let onLifelineClosed = (): void => process.exit(0);
  if (config.lifelineFd !== undefined) {
    const lifeline = new Socket({ fd: config.lifelineFd, readable: true, writable: false });
    lifeline.on('data', () => undefined);
    lifeline.on('close', () => onLifelineClosed());
    lifeline.on('error', () => onLifelineClosed());
  }
  // One agent per state dir (one set of credentials).
  let lock: { release(): Promise<void> };
  try {
    lock = await acquireStateLock(config.stateDir, { replace: config.replace, log });
  } catch (err) {
    if (!(err instanceof StateLockedError)) throw err;
    process.stderr.write(`edgehook-agent: ${err.message}\n`);
    process.exit(2);
  }
  const agent = await runAgent({
    config,
    clock: systemClock,
    log,
    profileExists: (id) => profiles.has(id),
    getProfile: (id) => profiles.get(id),
    logRing,
    ptyFactory: config.pty === 'simulated' ? simulatedPtyFactory() : nodePtyFactory(),
    containerRuntime,
    tls,
    // wireguard-tools are run only with --vpn apply; the driver module is loaded on first use.
    vpnDriver: config.vpn.mode === 'apply' ? async () => new (await import('./vpn/wg-quick.driver.js')).WgQuickDriver() : async () => new (await import('./vpn/vpn-driver.js')).SimulatedVpnDriver(),
    onFatal: () => {
      agent.stop().finally(() => process.exit(1));
    },
    restart: () => shutdown('restart into the updated version', RESTART_EXIT_CODE),
  });

  // The token is spent: it must not lie around on the device.
  if (config.enrollTokenFile && config.enrollTokenFile !== '-') await rm(config.enrollTokenFile, { force: true }).catch(() => undefined);

  let stopping = false;
  function shutdown(signal: string, code = 0): void {
    if (stopping) return;
    stopping = true;
    log.info('shutting down', { signal });
    agent
      .stop()
      .then(() => lock.release())
      .then(
      () => process.exit(code),
      (err: unknown) => {
        log.error('shutdown failed', { err });
        process.exit(1);
      },
    );
    setTimeout(() => process.exit(code === 0 ? 1 : code), 5000).unref();
  }
  onLifelineClosed = () => shutdown('parent gone (lifeline closed)');
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

main().catch((err: unknown) => {
  process.stderr.write(`edgehook-agent: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
