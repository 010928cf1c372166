import { ContainerStreamKinds, containerRpcDefinitions, encodeJson, isRpcMethod, topicFor, Topics, type Clock, type Logger, type PullProgress } from '@edgehook/shared';
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
    // The final state goes at the topic's qos 1, so a client waiting for "pulled" or "failed"
    // cannot miss it; the progress lines before it are a view and go at qos 0 (best effort).
    const qos = p.status === 'pulling' ? 0 : Topics.containerPull.qos;
    link?.transport.publish(topicFor('containerPull', { deviceId: link.deviceId }), encodeJson(p), { qos }).catch(() => undefined);
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
