import type { Kysely } from 'kysely';
import { compareAgentVersions, EdgehookError, type AgentUpdateOutcome, type AgentUpdateState, type Clock, type Logger } from '@edgehook/shared';
import type { Database } from '../db/database.js';
import type { RpcClient } from '../devices/rpc.client.js';
import { findDevice } from '../devices/devices.repository.js';
import type { AgentPackage, PackageCatalog } from './package-catalog.js';
import type { PackageSigner } from './signing-key.js';

export interface AgentUpdateDeps {
  db: Kysely<Database>;
  rpc: Pick<RpcClient, 'call'>;
  catalog: PackageCatalog;
  signer: PackageSigner;
  clock: Clock;
  log: Logger;
  /** How long a new version has to reach the control plane before the device rolls it back. */
  probationMs: number;
  /** How often the device is asked how its update goes while it restarts. */
  pollMs?: number;
}

/** A download and unpack on a slow Pi: the `agent.update` call itself. */
const INSTALL_TIMEOUT_MS = 5 * 60_000;
/** After the probation deadline: time for the rolled-back version to start and reconnect. */
const ROLLBACK_GRACE_MS = 30_000;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Updates one device's agent and waits for the outcome: the device downloads, verifies and
 * installs the package beside its running version, restarts into it, and the new version
 * confirms once it reaches the control plane; otherwise the device rolls back by itself.
 * Bad input (unknown device or version) rejects with an EdgehookError; everything after the
 * request reached the device resolves with its outcome. The jobs system calls `update`.
 */
export class AgentUpdateService {
  private readonly running = new Set<string>();

  constructor(private readonly deps: AgentUpdateDeps) {}

  /** The package an update to `version` (or the newest) installs. */
  async target(version: string | undefined): Promise<AgentPackage> {
    if (version !== undefined) return this.deps.catalog.get(version);
    const latest = await this.deps.catalog.latest();
    if (!latest) throw new EdgehookError('NOT_FOUND', 'no agent package is published (build one with npm run build:agent, or edgehook agent publish FILE --version V)');
    return latest;
  }

  async update(deviceId: string, opts: { version?: string }): Promise<AgentUpdateOutcome> {
    const device = await findDevice(this.deps.db, deviceId);
    if (!device) throw new EdgehookError('NOT_FOUND', `no device ${deviceId}`);
    const pkg = await this.target(opts.version);
    const current = device.agent_version;
    if (current === pkg.version) return { status: 'succeeded', version: current, message: `already runs ${current}` };
    // Without an explicit version the newest is the goal, which never moves a device backwards.
    if (opts.version === undefined && compareAgentVersions(current, pkg.version) > 0) {
      return { status: 'succeeded', version: current, message: `runs ${current}, newer than the newest published ${pkg.version} (a downgrade needs an explicit version)` };
    }
    if (this.running.has(device.id)) throw new EdgehookError('CONFLICT', `an agent update of ${device.name} is already running`);
    this.running.add(device.id);
    try {
      return await this.install(device.id, current, pkg);
    } finally {
      this.running.delete(device.id);
    }
  }

  private async install(deviceId: string, from: string, pkg: AgentPackage): Promise<AgentUpdateOutcome> {
    const { rpc, clock, log, probationMs } = this.deps;
    const params = { version: pkg.version, sha256: pkg.sha256, size: pkg.size, signature: pkg.signature, signingKey: this.deps.signer.publicKey, probationMs };
    try {
      await rpc.call(deviceId, 'agent.update', params, { timeoutMs: INSTALL_TIMEOUT_MS });
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      log.warn('agent update refused by the device', { deviceId, version: pkg.version, err: message });
      return { status: 'failed', version: from, message };
    }
    log.info('agent update installed; waiting for the new version', { deviceId, from, to: pkg.version });
    const deadline = clock.monotonic() + probationMs + ROLLBACK_GRACE_MS;
    let last: AgentUpdateState | undefined;
    while (clock.monotonic() < deadline) {
      await sleep(this.deps.pollMs ?? 1000);
      // Offline while it restarts: the call fails fast, and the next round asks again.
      const state = await rpc.call(deviceId, 'agent.updateStatus', {}, { timeoutMs: 3000 }).catch(() => undefined);
      if (!state) continue;
      last = state;
      if (state.to !== pkg.version) continue;
      if (state.state === 'confirmed' && state.running === pkg.version) return { status: 'succeeded', version: pkg.version };
      if (state.state === 'rolled-back') return { status: 'rolled-back', version: state.running, message: state.reason ?? `${pkg.version} failed its health check; ${state.running} runs again` };
    }
    return { status: 'failed', version: last?.running ?? from, message: `the device did not report ${pkg.version} healthy within ${Math.round((probationMs + ROLLBACK_GRACE_MS) / 1000)} s${last ? ` (last state: ${last.state}, running ${last.running})` : ' (it did not answer)'}` };
  }
}
