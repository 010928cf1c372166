import { encodeJson, KvmStreamKinds, topicFor, type Clock, type HwEvent, type Logger } from '@edgehook/shared';
import type { Profile } from '@edgehook/firmware-profiles';
import { trustedFetch, type TlsTrust } from '@edgehook/shared/transport';
import type { AgentConfig } from './config.js';
import { CredentialsStore, type SavedCredentials } from './link/credentials.store.js';
import { enroll, EnrollmentError } from './link/enrollment.js';
import { openDeviceLink, type DeviceLink } from './link/device-link.js';
import type { RpcHandlers } from './link/rpc.dispatcher.js';
import { describeSystem } from './system/describe.js';
import { openHardware } from './hardware/hardware.js';
import { readSensors } from './hardware/i2c/i2c.service.js';
import { startTelemetryAgent } from './telemetry/telemetry.js';
import { hardwareHandlers } from './hardware/hardware.handlers.js';
import { serialStreamKind } from './hardware/serial/serial.stream.js';
import { videoStreamKind } from './hardware/video/video.stream.js';
import { msdStreamKinds } from './hardware/msd/msd.stream.js';
import type { LogRing } from './hardware/log/log-ring.js';
import { StreamHost } from './streams/stream-host.js';
import type { PtyFactory } from './pty/pty-factory.js';
import { PtySessions } from './pty/pty-sessions.js';
import { loadActions } from './processes/actions.js';
import { ProcessManager } from './processes/process-manager.js';
import { ProcessLedger } from './processes/process-ledger.js';
import { processRpcHandlers, processStreamKind } from './processes/processes.handler.js';
import type { ContainerRuntime } from './containers/container-runtime.js';
import { startContainers } from './containers/containers.js';

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
  /** The container engine (Docker Engine API over a unix socket, or simulated). */
  containerRuntime: ContainerRuntime;
  /** How to trust a TLS control plane, for enrollment (https) and the link (mqtts/wss) alike. */
  tls?: TlsTrust;
}

export interface RunningAgent {
  readonly deviceId: string;
  stop(): Promise<void>;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Enrolls with the configured token, retrying only failures that may pass (server down, 5xx). */
async function enrollWithToken(deps: AgentDeps, store: CredentialsStore, describe: () => ReturnType<typeof describeSystem>): Promise<SavedCredentials> {
  const { config, log } = deps;
  if (!config.server || !config.enrollToken) {
    throw new Error(`not enrolled yet (no ${store.path}): start once with --server <control-plane URL> and the token in EDGEHOOK_ENROLL_TOKEN or --enroll-token-file`);
  }
  for (let attempt = 0; ; attempt++) {
    try {
      const res = await enroll(config.server, config.enrollToken, await describe(), trustedFetch(deps.tls ?? {}));
      const creds: SavedCredentials = { deviceId: res.deviceId, name: res.name, server: config.server, mqtt: res.mqtt, enrolledAt: new Date(deps.clock.now()).toISOString() };
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
  // Remote execution: processes (pow-1 / Quix) and PTY shells over the stream mechanism.
  const streams = new StreamHost(log.child({ part: 'streams' }));
  // Processes a previous run started and left behind (agent kill -9) are found, reported, stopped.
  const ledger = new ProcessLedger(config.stateDir, log.child({ part: 'processes' }));
  await ledger.recover();
  const processes = new ProcessManager({ actions: await loadActions(config.actionsFile), clock, log: log.child({ part: 'processes' }), ledger });
  const ptys = new PtySessions({ factory: deps.ptyFactory, log: log.child({ part: 'pty' }) });
  streams.register('process', processStreamKind(processes, { allowArbitrary: config.execArbitrary }));
  streams.register('pty', ptys);
  // Hardware per the board profile; state changes go out on hwState once the link is up.
  let publishHw: (e: HwEvent) => void = () => undefined;
  const hardware = await openHardware({
    profile: deps.getProfile(config.profile),
    clock,
    log: log.child({ part: 'hardware' }),
    logRing: deps.logRing,
    hostname: config.hostname,
    agentVersion: AGENT_VERSION,
    emit: (e) => publishHw(e),
    stateDir: config.stateDir,
  });
  streams.register('serial', serialStreamKind(hardware.serial));
  streams.register(KvmStreamKinds.video, videoStreamKind(hardware.streamer));
  streams.registerAll(msdStreamKinds(hardware.msd));
  // Containers (issue 6): power, declared servers, files, consoles, logs and stats.
  const containers = startContainers({ runtime: deps.containerRuntime, stateDir: config.stateDir, clock, log: log.child({ part: 'containers' }), hostAccess: config.containerHostAccess });
  streams.registerAll(containers.streamKinds);
  const handlers: RpcHandlers = {
    ping: async (p) => ({ sentAt: p.sentAt, agentTime: clock.now() }),
    'system.describe': describe,
    ...hardwareHandlers(hardware),
    ...processRpcHandlers(processes, () => clock.now(), { allowArbitrary: config.execArbitrary }),
    ...containers.handlers,
  };

  let credentials = (await store.load()) ?? (await enrollWithToken(deps, store, describe));
  // Telemetry: collectors per the profile, batches buffered on disk while offline, the `telemetry` RPC.
  const profile = deps.getProfile(config.profile);
  const telemetry = await startTelemetryAgent({
    config: config.telemetry,
    stateDir: config.stateDir,
    profile,
    deviceId: () => credentials.deviceId,
    clock,
    log,
    ...(profile.i2c.some((b) => b.sensors.length > 0) ? { readSensors: () => readSensors(profile, hardware.i2c) } : {}),
  });
  Object.assign(handlers, telemetry.handlers);
  let link: DeviceLink | undefined;
  let stopped = false;
  let reEnrolling = false;

  const connect = async (): Promise<void> => {
    link = await openDeviceLink({
      credentials,
      transport: linkTransport(config.mqttTransport, credentials),
      tls: deps.tls ?? {},
      describe,
      handlers,
      log,
      now: () => clock.now(),
      onState: (s) => {
        // Keys and buttons held for a client that is gone would stay pressed on the target: release them.
        if (s.state === 'disconnected') void hardware.hid.reset();
        if (s.state !== 'disconnected' || s.reason !== 'not-authorized' || stopped || reEnrolling) return;
        // Our credentials were revoked (device deleted) or the server's data was reset.
        if (!config.enrollToken || !config.server) {
          log.error('the control plane refuses our credentials; this device was deleted or its secret revoked. Re-enroll with --enroll <token>.');
          return;
        }
        reEnrolling = true;
        log.warn('credentials refused; enrolling again with the configured token');
        void (async () => {
          const fresh = await enrollWithToken(deps, store, describe);
          await link?.close();
          credentials = fresh;
          if (!stopped) await connect();
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
    await streams.attach(link.transport, credentials.deviceId);
    telemetry.attach(link.transport);
  };
  await connect();
  publishHw = (e) => {
    link?.transport.publish(topicFor('hwState', { deviceId: credentials.deviceId }), encodeJson(e), { qos: 0 }).catch(() => undefined);
  };

  return {
    get deviceId() {
      return credentials.deviceId;
    },
    async stop() {
      stopped = true;
      await hardware.close();
      streams.dropAll();
      processes.cancelAll();
      ptys.closeAll();
      containers.close();
      await telemetry.stop();
      await link?.close();
    },
  };
}
