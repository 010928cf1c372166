import { DockerEngineRuntime } from '../../src/containers/docker-engine.runtime.js';
import { startTestEngine } from './podman-engine.js';
import { runtimeContract } from './runtime.contract.js';

runtimeContract('docker engine API (private podman service)', {
  make: async () => {
    const engine = await startTestEngine({ registry: true });
    if (!engine?.registry) return null;
    // The local registry (oci-registry.ts): podman pulls from it over plain HTTP; it has no "missing" repository.
    const pullable = { image: engine.registry.image, missing: `${engine.registry.host}/edgehook/missing:latest` };
    return { runtime: new DockerEngineRuntime(engine.socket), image: engine.image, pullable, dispose: () => engine.stop() };
  },
  // A socket path with nothing listening.
  down: () => new DockerEngineRuntime(`/tmp/edgehook-no-engine-${process.pid}.sock`),
});
