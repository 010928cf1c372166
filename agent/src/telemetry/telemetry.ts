import { join } from 'node:path';
import type { Clock, Logger } from '@edgehook/shared';
import type { Transport } from '@edgehook/shared/transport';
import type { Profile } from '@edgehook/firmware-profiles';
import type { RpcHandlers } from '../devices/rpc.dispatcher.js';
import type { Capability } from '../capability.js';
import { allCollectors, COLLECTOR_NAMES, type Collector, type CollectorEnv, type CollectorName } from './collectors.js';
import { startLocalEndpoint } from './local-endpoint.js';
import { SequenceNumbers } from './sequence.js';
import { telemetrySnapshot } from './snapshot.js';
import { Spool } from './spool.js';
import { TelemetryAgent } from './telemetry-agent.js';
import type { TelemetryConfig } from './telemetry-config.js';
import type { LocalRoutes } from './local-http.js';

/** The settings an operator may change at run time (the agent's own Perfkit config, scope `agent`). */
export interface TelemetrySettings {
  intervalMs: number;
  /** Every collector: its interval in ms or off. */
  collectors: Partial<Record<CollectorName, number | 'off'>>;
}

export interface RunningTelemetry extends Capability {
  agent: TelemetryAgent;
  handlers: Pick<RpcHandlers, 'telemetry'>;
  localPort: number | undefined;
  settings(): TelemetrySettings;
  applySettings(next: TelemetrySettings): void;
  attach(link: { transport: Transport }): void;
  close(): Promise<void>;
}

/** Telemetry for one agent: collectors per the board profile, spool in the state dir, local endpoint. */
export async function startTelemetryAgent(deps: {
  config: TelemetryConfig;
  stateDir: string;
  profile: Profile;
  deviceId: () => string;
  clock: Clock;
  log: Logger;
  readSensors?: CollectorEnv['readSensors'];
  managedVpn?: CollectorEnv['managedVpn'];
  root?: string;
  /** More routes on the local endpoint (perfkit sessions) and the per-session trace hook. */
  localRoutes?: LocalRoutes;
  traced?: (session: string, group: string) => void;
}): Promise<RunningTelemetry> {
  const { config, profile, clock } = deps;
  const log = deps.log.child({ part: 'telemetry' });
  const env: CollectorEnv = {
    root: deps.root ?? '/',
    thermalZones: profile.thermalZones,
    vcgencmd: profile.throttling.vcgencmd,
    ...(deps.readSensors ? { readSensors: deps.readSensors } : {}),
    ...(deps.managedVpn ? { managedVpn: deps.managedVpn } : {}),
  };
  const available = allCollectors(env);
  const plan = (settings: Partial<Record<CollectorName, number | 'off'>>) => {
    const collectors: Partial<Record<CollectorName, Collector>> = {};
    const intervals: Partial<Record<CollectorName, number>> = {};
    for (const name of COLLECTOR_NAMES) {
      const c = available[name];
      const setting = settings[name];
      if (setting === 'off') continue;
      collectors[name] = c;
      if (setting !== undefined) intervals[name] = setting;
    }
    return { collectors, intervals };
  };
  const { collectors, intervals } = plan(config.collectors);
  let current: TelemetrySettings = { intervalMs: config.intervalMs, collectors: {} };
  for (const n of COLLECTOR_NAMES) current.collectors[n] = config.collectors[n] ?? config.intervalMs;
  const spool = await Spool.open({ dir: join(deps.stateDir, 'telemetry-spool'), maxBytes: config.bufferBytes, maxAgeMs: config.bufferMaxAgeMs, clock, log });
  const seq = await SequenceNumbers.open(deps.stateDir, { log, floor: spool.highest + 1 });
  const agent = new TelemetryAgent({ deviceId: deps.deviceId, clock, log, collectors, baseMs: config.intervalMs, intervals, spool, seq, replayPerSecond: config.replayPerSecond });
  await agent.start();
  const endpoint =
    config.localPort === null ? undefined : await startLocalEndpoint({ port: config.localPort, log, now: () => clock.now(), push: (s) => agent.pushCustom(s), ...(deps.localRoutes ? { routes: deps.localRoutes } : {}), ...(deps.traced ? { traced: deps.traced } : {}) }).catch((err: unknown) => {
      log.warn('local telemetry endpoint not started', { err });
      return undefined;
    });
  return {
    name: 'telemetry',
    agent,
    localPort: endpoint?.port,
    settings: () => ({ intervalMs: current.intervalMs, collectors: { ...current.collectors } }),
    applySettings(next) {
      current = { intervalMs: next.intervalMs, collectors: { ...next.collectors } };
      agent.reconfigure({ baseMs: next.intervalMs, ...plan(next.collectors) });
      log.info('telemetry settings changed', { intervalMs: next.intervalMs, collectors: next.collectors });
    },
    handlers: { telemetry: (p) => telemetrySnapshot(env, p.stat_types) },
    streamKinds: {},
    attach: (link) => agent.attach(link.transport),
    async close() {
      agent.stop();
      await spool.settled();
      await endpoint?.close();
    },
  };
}
