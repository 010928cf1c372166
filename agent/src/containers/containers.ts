import type { Clock, Logger } from '@edgehook/shared';
import type { RpcHandlers } from '../devices/rpc.dispatcher.js';
import type { StreamKindImpls } from '../streams/stream-host.js';
import type { ContainerRuntime, PullListener } from './container-runtime.js';
import { containerRpcHandlers, diskUsage } from './containers.handler.js';
import { containerStreamKinds } from './containers.streams.js';
import { ConsoleHub } from './console-hub.js';
import { ServersExecutor } from './executor.js';
import { FilesService } from './files.service.js';
import { PowerManager } from './power.js';
import type { HostAccessPolicy } from './host-access.js';
import type { Capability } from '../capability.js';

export interface ContainersAgent extends Capability {
  readonly handlers: RpcHandlers;
  readonly streamKinds: StreamKindImpls;
  readonly power: PowerManager;
  readonly executor: ServersExecutor;
  readonly files: FilesService;
  close(): void;
}

/** Wires the container capability: power serializer, declared-set executor, files, RPCs and streams. */
export function startContainers(deps: { runtime: ContainerRuntime; stateDir: string; clock: Clock; log: Logger; watchEvents?: boolean; hostAccess?: HostAccessPolicy | undefined; onPull?: PullListener | undefined }): ContainersAgent {
  const { runtime, clock, log } = deps;
  const power = new PowerManager({ runtime, log });
  const files = new FilesService({ stateDir: deps.stateDir, engineProbe: () => runtime.info() });
  const { hostAccess } = deps;
  const executor = new ServersExecutor({ runtime, power, files, clock, log, hostAccess, onPull: deps.onPull });
  const diskBytes = diskUsage(files, clock);
  const consoles = new ConsoleHub({ runtime, log });
  if (deps.watchEvents !== false) power.watchEvents();
  return {
    name: 'containers',
    handlers: containerRpcHandlers({ runtime, power, executor, files, clock, log, diskBytes, hostAccess, onPull: deps.onPull }),
    streamKinds: containerStreamKinds({ runtime, power, files, consoles, clock, log, diskBytes }),
    power,
    executor,
    files,
    close: () => {
      power.close();
      consoles.closeAll();
    },
  };
}
