import type { Clock, Logger } from '@edgehook/shared';
import type { AgentConfig } from './config.js';
import { CredentialsStore, type SavedCredentials } from './link/credentials.store.js';
import { enroll, EnrollmentError } from './link/enrollment.js';
import { openDeviceLink, type DeviceLink } from './link/device-link.js';
import type { RpcHandlers } from './link/rpc.dispatcher.js';
import { describeSystem } from './system/describe.js';

export const AGENT_VERSION = '0.1.0';

export interface AgentDeps {
  config: AgentConfig;
  clock: Clock;
  log: Logger;
  /** Which board profiles exist (from firmware-profiles). */
  profileExists: (id: string) => boolean;
  /** Called when the agent cannot go on (credentials refused and no way to enroll again). */
  onFatal: (err: Error) => void;
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
    throw new Error(`not enrolled yet (no ${store.path}): start once with --server <control-plane URL> --enroll <token>`);
  }
  for (let attempt = 0; ; attempt++) {
    try {
      const res = await enroll(config.server, config.enrollToken, await describe());
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

export async function runAgent(deps: AgentDeps): Promise<RunningAgent> {
  const { config, log, clock } = deps;
  if (!deps.profileExists(config.profile)) throw new Error(`unknown board profile ${config.profile}`);
  const store = new CredentialsStore(config.stateDir);
  const describe = () => describeSystem({ hostname: config.hostname, profile: config.profile, agentVersion: AGENT_VERSION });
  const handlers: RpcHandlers = {
    ping: async (p) => ({ sentAt: p.sentAt, agentTime: clock.now() }),
    'system.describe': describe,
  };

  let credentials = (await store.load()) ?? (await enrollWithToken(deps, store, describe));
  let link: DeviceLink | undefined;
  let stopped = false;
  let reEnrolling = false;

  const connect = async (): Promise<void> => {
    link = await openDeviceLink({
      credentials,
      transport: config.mqttTransport,
      describe,
      handlers,
      log,
      now: () => clock.now(),
      onState: (s) => {
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
  };
  await connect();

  return {
    get deviceId() {
      return credentials.deviceId;
    },
    async stop() {
      stopped = true;
      await link?.close();
    },
  };
}
