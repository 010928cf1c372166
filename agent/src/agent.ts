import type { Clock, Logger } from '@edgehook/shared';
import type { Profile } from '@edgehook/firmware-profiles';
import type { TlsTrust } from '@edgehook/shared/transport';
import type { AgentConfig } from './config.js';
import { closeCapabilities, mergeHandlers, startCapabilities, type Capability } from './capability.js';
import { CredentialsStore, type SavedCredentials } from './devices/credentials.store.js';
import { enroll, EnrollmentError, nodePostJson, reprovision } from './devices/enrollment.js';
import { openDeviceLink, type DeviceLink } from './devices/device-link.js';
import type { RpcHandlers } from './devices/rpc.dispatcher.js';
import { describeSystem } from './system/describe.js';
import { readSensors } from './hardware/i2c/i2c.service.js';
import { startHardware, type HardwareCapability } from './hardware/hardware.capability.js';
import { startTelemetryAgent } from './telemetry/telemetry.js';
import type { LogRing } from './hardware/log/log-ring.js';
import { StreamHost } from './streams/stream-host.js';
import type { PtyFactory } from './pty/pty-factory.js';
import { startPty } from './pty/pty.capability.js';
import { startProcesses } from './processes/processes.capability.js';
import { startForward } from './forward/forward.capability.js';
import type { ContainerRuntime } from './containers/container-runtime.js';
import { containersOnFirstUse } from './containers/containers.capability.js';
import { startUpdates } from './updates/updates.capability.js';
import { nodeDownload } from './updates/package-download.js';
import { startVpn, type VpnCapability } from './vpn/vpn.capability.js';
import { SimulatedVpnDriver, type VpnDriver } from './vpn/vpn-driver.js';
import { startPerfkit, type PerfkitCapability } from './perfkit/perfkit.capability.js';

import { AGENT_VERSION } from './version.js';
export { AGENT_VERSION };

export interface AgentDeps {
  config: AgentConfig;
  clock: Clock;
  log: Logger;
  /** Which board profiles exist (from firmware-profiles). */
  profileExists: (id: string) => boolean;
  /** Called when the agent cannot go on (credentials refused and no way to enroll again). */
  onFatal: (err: Error) => void;
  /** The board profile by id (main.ts loads the registry). */
  getProfile: (id: string) => Profile;
  /** The agent's own recent log lines, served by the `log` RPC. */
  logRing: LogRing;
  /** Real (node-pty) or simulated terminals for shells. */
  ptyFactory: PtyFactory;
  /** The container engine (Docker Engine API over a unix socket, or simulated), built on the first container call. */
  containerRuntime: () => Promise<ContainerRuntime>;
  /** How to trust a TLS control plane, for enrollment (https) and the link (mqtts/wss) alike. */
  tls?: TlsTrust;
  /** Stop and exit so the supervisor restarts into the updated version (main.ts: RESTART_EXIT_CODE). */
  restart?: () => void;
  /** The WireGuard driver for `--vpn apply|simulate` (main.ts imports the real one lazily). */
  vpnDriver?: () => Promise<VpnDriver>;
}

export interface RunningAgent {
  readonly deviceId: string;
  stop(): Promise<void>;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Enrolls with the configured token, retrying only failures that may pass (server down, 5xx). */
/** How often a refused device asks for its broker identity back. */
const REPROVISION_EVERY_MS = 60_000;

async function enrollWithToken(deps: AgentDeps, store: CredentialsStore, describe: () => ReturnType<typeof describeSystem>): Promise<SavedCredentials> {
  const { config, log } = deps;
  if (!config.server || !config.enrollToken) {
    throw new Error(`not enrolled yet (no ${store.path}): start once with --server <control-plane URL> and the token in EDGEHOOK_ENROLL_TOKEN or --enroll-token-file`);
  }
  for (let attempt = 0; ; attempt++) {
    try {
      const res = await enroll(config.server, config.enrollToken, await describe(), nodePostJson(deps.tls ?? {}));
      const creds: SavedCredentials = { deviceId: res.deviceId, name: res.name, server: config.server, mqtt: res.mqtt, enrolledAt: new Date(deps.clock.now()).toISOString(), ...(res.packageKey ? { packageKey: res.packageKey } : {}) };
      // Saved only after success: a failed re-enrollment never destroys working credentials.
      await store.save(creds);
      log.info('enrolled', { deviceId: res.deviceId, name: res.name });
      return creds;
    } catch (err) {
      if (!(err instanceof EnrollmentError) || !err.retryable) throw err;
      const delay = Math.min(60_000, 1000 * 2 ** Math.min(attempt, 6));
      log.warn('enrollment failed, retrying', { err: err.message, retryInMs: delay });
      await sleep(delay);
    }
  }
}

/**
 * `auto`: behind a TLS proxy the plain MQTT URL would carry the device secret in clear while the
 * websocket URL is wss://, so the websocket is taken; otherwise MQTT over TCP (or TLS).
 */
export function linkTransport(choice: 'tcp' | 'ws' | 'auto', credentials: SavedCredentials): 'tcp' | 'ws' {
  if (choice !== 'auto') return choice;
  return credentials.mqtt.url.startsWith('mqtt:') && credentials.mqtt.wsUrl.startsWith('wss:') ? 'ws' : 'tcp';
}

export async function runAgent(deps: AgentDeps): Promise<RunningAgent> {
  const { config, log, clock } = deps;
  if (!deps.profileExists(config.profile)) throw new Error(`unknown board profile ${config.profile}`);
  const store = new CredentialsStore(config.stateDir);
  const describe = () => describeSystem({ hostname: config.hostname, profile: config.profile, agentVersion: AGENT_VERSION });
  let credentials: SavedCredentials | undefined;
  const deviceId = (): string => {
    if (!credentials) throw new Error('not enrolled yet');
    return credentials.deviceId;
  };
  const profile = deps.getProfile(config.profile);
  let hardware: HardwareCapability | undefined;
  let vpn: VpnCapability | undefined;
  let perfkit: PerfkitCapability | undefined;
  // Every capability starts the same way, in this order (telemetry reads the board's I2C sensors);
  // they start before enrollment, so a board that cannot start does not spend the token.
  const capabilities: Capability[] = await startCapabilities([
    async () => ({
      name: 'system',
      handlers: { ping: async (p) => ({ sentAt: p.sentAt, agentTime: clock.now() }), 'system.describe': describe },
      streamKinds: {},
      close: () => undefined,
    }),
    // Remote execution: processes (pow-1 / Quix) and PTY shells over the stream mechanism.
    () => startProcesses({ stateDir: config.stateDir, actionsFile: config.actionsFile, allowArbitrary: config.execArbitrary, clock, log: log.child({ part: 'processes' }) }),
    () => startPty({ factory: deps.ptyFactory, log: log.child({ part: 'pty' }) }),
    () => startForward({ allow: config.forwardAllow, log: log.child({ part: 'forward' }) }),
    async () =>
      (hardware = await startHardware({ profile, clock, log: log.child({ part: 'hardware' }), logRing: deps.logRing, hostname: config.hostname, agentVersion: AGENT_VERSION, stateDir: config.stateDir })),
    // Containers (issue 6): power, declared servers, files, consoles, logs and stats.
    async () => containersOnFirstUse({ runtime: deps.containerRuntime, stateDir: config.stateDir, clock, log: log.child({ part: 'containers' }), hostAccess: config.containerHostAccess }),
    // Self-update into a signed package, with rollback by the launcher (updates/).
    () =>
      startUpdates({
        installDir: config.installDir,
        version: AGENT_VERSION,
        server: () => credentials?.server,
        pinnedKey: () => credentials?.packageKey,
        pinKey: async (key) => {
          if (!credentials) return;
          credentials = { ...credentials, packageKey: key };
          await store.save(credentials);
        },
        download: nodeDownload(deps.tls ?? {}),
        clock,
        log: log.child({ part: 'updates' }),
        restart: () => (deps.restart ?? (() => log.error('an update asked for a restart, but nothing can restart this agent')))(),
      }),
    // WireGuard (issue 18): the key is made here, the config comes from the control plane.
    async () => (vpn = await startVpn({ mode: config.vpn.mode, ifname: config.vpn.ifname, stateDir: config.stateDir, log: log.child({ part: 'vpn' }), driver: deps.vpnDriver ?? (async () => new SimulatedVpnDriver()) })),
    // Perfkit sessions (issue 18): programs register on the local endpoint telemetry opens next.
    async () => (perfkit = startPerfkit({ clock, log })),
    // Telemetry: collectors per the profile, batches buffered on disk while offline, the `telemetry` RPC.
    async () => {
      const i2c = hardware?.hardware.i2c;
      const telemetry = await startTelemetryAgent({
        config: config.telemetry,
        stateDir: config.stateDir,
        profile,
        deviceId,
        clock,
        log,
        ...(vpn ? { managedVpn: vpn.managedInterface } : {}),
        ...(i2c && profile.i2c.some((b) => b.sensors.length > 0) ? { readSensors: () => readSensors(profile, i2c) } : {}),
        ...(perfkit ? { localRoutes: perfkit.localRoutes, traced: perfkit.traced } : {}),
      });
      // The agent's own settings are the `agent` config scope, editable from the control plane.
      perfkit?.useAgentSettings(telemetry);
      return telemetry;
    },
  ]);
  const streams = new StreamHost(log.child({ part: 'streams' }), { clock });
  let handlers: RpcHandlers;
  try {
    handlers = mergeHandlers(capabilities);
    for (const cap of capabilities) streams.registerAll(cap.streamKinds);
  } catch (err) {
    await closeCapabilities(capabilities).catch(() => undefined);
    throw err;
  }
  let link: DeviceLink | undefined;
  let stopped = false;
  let reEnrolling = false;
  let reprovisionedAt = Number.NEGATIVE_INFINITY;

  const connect = async (creds: SavedCredentials): Promise<void> => {
    link = await openDeviceLink({
      credentials: creds,
      transport: linkTransport(config.mqttTransport, creds),
      tls: deps.tls ?? {},
      describe,
      handlers,
      log,
      now: () => clock.now(),
      onState: (s) => {
        for (const cap of capabilities) cap.onLinkState?.(s);
        if (s.state !== 'disconnected' || s.reason !== 'not-authorized' || stopped || reEnrolling) return;
        reEnrolling = true;
        void (async () => {
          // A broker that lost its data refuses credentials the control plane still holds: ask for
          // the identity back first (at most once a minute); the transport's next retry connects.
          if (clock.now() - reprovisionedAt >= REPROVISION_EVERY_MS) {
            reprovisionedAt = clock.now();
            const identity = await reprovision(creds.server, creds.deviceId, creds.mqtt.password, nodePostJson(deps.tls ?? {})).catch((err: unknown) => {
              log.warn('asking the control plane for our broker identity failed', { err });
              return undefined;
            });
            if (identity === 'restored') return log.warn('the broker had lost our identity; the control plane gave it back');
          }
          // Our credentials were revoked (device deleted) or the server's data was reset.
          if (!config.enrollToken || !config.server) {
            log.error('the control plane refuses our credentials; this device was deleted or its secret revoked. Re-enroll with --enroll <token>.');
            return;
          }
          log.warn('credentials refused; enrolling again with the configured token');
          const fresh = await enrollWithToken(deps, store, describe);
          await link?.close();
          credentials = fresh;
          if (!stopped) await connect(fresh);
        })()
          .catch((err: unknown) => {
            log.error('the control plane refuses our credentials and re-enrollment failed', { err });
            deps.onFatal(err instanceof Error ? err : new Error(String(err)));
          })
          .finally(() => {
            reEnrolling = false;
          });
      },
    });
    await streams.attach(link.transport, creds.deviceId);
    for (const cap of capabilities) cap.attach?.({ transport: link.transport, deviceId: creds.deviceId });
  };
  try {
    credentials = (await store.load()) ?? (await enrollWithToken(deps, store, describe));
    await connect(credentials);
  } catch (err) {
    // Enrollment refused or the link could not open: nothing the capabilities started stays behind.
    await link?.close().catch(() => undefined);
    await closeCapabilities(capabilities).catch(() => undefined);
    throw err;
  }

  return {
    get deviceId() {
      return deviceId();
    },
    async stop() {
      stopped = true;
      streams.dropAll();
      try {
        await closeCapabilities(capabilities);
      } finally {
        await link?.close();
      }
    },
  };
}
