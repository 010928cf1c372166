import { ContainerStreamKinds, containerRpcDefinitions, encodeJson, isRpcMethod, topicFor, type Clock, type Logger, type PullProgress } from '@edgehook/shared';
import type { Transport } from '@edgehook/shared/transport';
import { loadedOnFirstUse, type Capability } from '../capability.js';
import type { ContainerRuntime } from './container-runtime.js';
import type { HostAccessPolicy } from './host-access.js';

/** The container RPC methods and stream kinds, from the shared maps (nothing of the capability loaded). */
export const containerMethods = Object.keys(containerRpcDefinitions).filter(isRpcMethod);
export const containerStreamKindNames = Object.values(ContainerStreamKinds);

/**
 * Containers (issue 6), loaded on the first container call or stream: the engine client, power,
 * declared servers, files, consoles, logs and stats cost the idle agent nothing until then.
 * Image pulls inside an apply go out on the containerPull topic of the attached link.
 */
export function containersOnFirstUse(deps: { runtime: () => Promise<ContainerRuntime>; stateDir: string; clock: Clock; log: Logger; hostAccess?: HostAccessPolicy | undefined }): Capability {
  let link: { transport: Transport; deviceId: string } | undefined;
  const onPull = (p: PullProgress): void => {
    // qos 0 and best effort: progress is a view; the apply's answer is what counts.
    link?.transport.publish(topicFor('containerPull', { deviceId: link.deviceId }), encodeJson(p), { qos: 0 }).catch(() => undefined);
  };
  const cap = loadedOnFirstUse({
    name: 'containers',
    methods: containerMethods,
    streamKinds: containerStreamKindNames,
    load: async () => {
      const [{ startContainers }, runtime] = await Promise.all([import('./containers.js'), deps.runtime()]);
      return startContainers({ runtime, stateDir: deps.stateDir, clock: deps.clock, log: deps.log, hostAccess: deps.hostAccess, onPull });
    },
  });
  return {
    ...cap,
    attach: (l) => {
      link = l;
    },
  };
}
