import { systemClock } from '@edgehook/shared';
import { SimulatedContainerRuntime } from '../../src/containers/simulated.runtime.js';
import { unavailableRuntime } from '../../src/containers/engine-socket.js';
import { runtimeContract } from './runtime.contract.js';

const IMAGE = 'localhost/edgehook-test/busybox:latest';
runtimeContract('simulated', {
  make: async () => ({ runtime: new SimulatedContainerRuntime({ clock: systemClock, images: [IMAGE] }), image: IMAGE, pullable: { image: 'registry.simulated/edgehook/busybox:latest', missing: 'registry.simulated/edgehook/missing:latest' }, dispose: async () => {} }),
  down: () => unavailableRuntime(['/nonexistent/docker.sock']),
});
