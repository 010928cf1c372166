import { systemClock } from '@edgehook/shared';
import { SimulatedContainerRuntime } from '../../src/containers/simulated.runtime.js';
import { unavailableRuntime } from '../../src/containers/engine-socket.js';
import { runtimeContract } from './runtime.contract.js';

const IMAGE = 'localhost/edgehook-test/busybox:latest';
runtimeContract('simulated', {
  make: async () => ({ runtime: new SimulatedContainerRuntime({ clock: systemClock, images: [IMAGE] }), image: IMAGE, dispose: async () => {} }),
  down: () => unavailableRuntime(['/nonexistent/docker.sock']),
});
