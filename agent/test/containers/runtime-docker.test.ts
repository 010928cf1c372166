import { DockerEngineRuntime } from '../../src/containers/docker-engine.runtime.js';
import { startTestEngine } from './podman-engine.js';
import { runtimeContract } from './runtime.contract.js';

runtimeContract('docker engine API (private podman service)', {
  make: async () => {
    const engine = await startTestEngine();
    if (!engine) return null;
    return { runtime: new DockerEngineRuntime(engine.socket), image: engine.image, dispose: () => engine.stop() };
  },
  // A socket path with nothing listening.
  down: () => new DockerEngineRuntime(`/tmp/edgehook-no-engine-${process.pid}.sock`),
});
