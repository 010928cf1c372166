import { isRpcMethod, RpcMethods, type Clock, type Logger } from '@edgehook/shared';
import { loadedOnFirstUse, type Capability } from '../capability.js';
import { loadActions } from './actions.js';
import { ProcessLedger } from './process-ledger.js';

/** The process RPC methods (from the shared RPC map) and the stream kind, known without loading the capability. */
export const processMethods = Object.keys(RpcMethods).filter(isRpcMethod).filter((m) => m.startsWith('processes.'));
export const processStreamKindNames = ['process'] as const;

/**
 * Processes (pow-1 / Quix): the RPCs and the `process` stream kind over one manager. What must
 * happen at start does (leftovers of a previous run stopped, the actions file checked); the manager
 * and the handlers load on the first process call or stream (issue 12's lean agent).
 */
export async function startProcesses(deps: { stateDir: string; actionsFile: string | undefined; allowArbitrary: boolean; clock: Clock; log: Logger }): Promise<Capability> {
  const { clock, log, allowArbitrary } = deps;
  // Processes a previous run started and left behind (agent kill -9) are found, reported, stopped.
  const ledger = new ProcessLedger(deps.stateDir, log);
  await ledger.recover();
  const actions = await loadActions(deps.actionsFile);
  return loadedOnFirstUse({
    name: 'processes',
    methods: processMethods,
    streamKinds: processStreamKindNames,
    load: async () => {
      const [{ ProcessManager }, { processRpcHandlers, processStreamKind }] = await Promise.all([import('./process-manager.js'), import('./processes.handler.js')]);
      const processes = new ProcessManager({ actions, clock, log, ledger });
      return {
        name: 'processes',
        handlers: processRpcHandlers(processes, () => clock.now(), { allowArbitrary }),
        streamKinds: { process: processStreamKind(processes, { allowArbitrary }) },
        close: () => processes.cancelAll(),
      };
    },
  });
}
