import type { Clock, Logger } from '@edgehook/shared';
import type { Capability } from '../capability.js';
import { loadActions } from './actions.js';
import { ProcessLedger } from './process-ledger.js';
import { ProcessManager } from './process-manager.js';
import { processRpcHandlers, processStreamKind } from './processes.handler.js';

/** Processes (pow-1 / Quix): the RPCs and the `process` stream kind over one manager. */
export async function startProcesses(deps: { stateDir: string; actionsFile: string | undefined; allowArbitrary: boolean; clock: Clock; log: Logger }): Promise<Capability> {
  const { clock, log, allowArbitrary } = deps;
  // Processes a previous run started and left behind (agent kill -9) are found, reported, stopped.
  const ledger = new ProcessLedger(deps.stateDir, log);
  await ledger.recover();
  const processes = new ProcessManager({ actions: await loadActions(deps.actionsFile), clock, log, ledger });
  return {
    name: 'processes',
    handlers: processRpcHandlers(processes, () => clock.now(), { allowArbitrary }),
    streamKinds: { process: processStreamKind(processes, { allowArbitrary }) },
    close: () => processes.cancelAll(),
  };
}
