import { ContainerStreamKinds, containerRpcDefinitions, isRpcMethod, type Clock, type Logger } from '@edgehook/shared';
import { loadedOnFirstUse, type Capability } from '../capability.js';
import type { ContainerRuntime } from './container-runtime.js';
import type { HostAccessPolicy } from './host-access.js';

/** The container RPC methods and stream kinds, from the shared maps (nothing of the capability loaded). */
export const containerMethods = Object.keys(containerRpcDefinitions).filter(isRpcMethod);
export const containerStreamKindNames = Object.values(ContainerStreamKinds);

/**
 * Containers (issue 6), loaded on the first container call or stream: the engine client, power,
 * declared servers, files, consoles, logs and stats cost the idle agent nothing until then.
 */
export function containersOnFirstUse(deps: { runtime: () => Promise<ContainerRuntime>; stateDir: string; clock: Clock; log: Logger; hostAccess?: HostAccessPolicy | undefined }): Capability {
  return loadedOnFirstUse({
    name: 'containers',
    methods: containerMethods,
    streamKinds: containerStreamKindNames,
    load: async () => {
      const [{ startContainers }, runtime] = await Promise.all([import('./containers.js'), deps.runtime()]);
      return startContainers({ runtime, stateDir: deps.stateDir, clock: deps.clock, log: deps.log, hostAccess: deps.hostAccess });
    },
  });
}
