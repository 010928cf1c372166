import { nodeCrypto } from '@edgehook/shared/node-builtins';
import { EdgehookError, type Clock } from '@edgehook/shared';
import type { PullListener } from './container-runtime.js';
import type { PullLine } from './docker-schemas.js';
import { PullTracker } from './pull-progress.js';

/** Images under this host exist only in the simulated registry: a device pulls them, in layers, over time. */
export const SIMULATED_REGISTRY = 'registry.simulated';

export interface SimLayer {
  id: string;
  size: number;
}

/**
 * The simulated engine's registry: `registry.simulated/<name>[:tag]` has three layers whose sizes
 * follow from the name (a few MB), except names containing `missing`, which it does not have.
 * Layers download side by side at `bytesPerSecond` on the clock passed in, and the engine turns
 * that into Docker's own pull lines, so the simulated engine reports through the same PullTracker.
 */
export class SimulatedRegistry {
  constructor(private readonly opts: { clock: Clock; bytesPerSecond?: number; tickMs?: number; images?: Record<string, SimLayer[]> }) {}

  static owns(image: string): boolean {
    return image.startsWith(`${SIMULATED_REGISTRY}/`);
  }

  manifest(image: string): SimLayer[] | undefined {
    const listed = this.opts.images?.[image];
    if (listed) return listed;
    if (!SimulatedRegistry.owns(image) || image.includes('missing')) return undefined;
    const h = nodeCrypto().createHash('sha256').update(image.replace(/:latest$/, '')).digest();
    return [0, 1, 2].map((i) => ({ id: h.subarray(i * 6, i * 6 + 6).toString('hex'), size: 400_000 + (h.readUInt32BE(20 + i * 4) % 1_600_000) }));
  }

  /** Downloads the image's layers (skipping those in `have`), reporting as Docker does. */
  async pull(image: string, have: Set<string>, onProgress: PullListener | undefined): Promise<SimLayer[]> {
    const tracker = new PullTracker(image);
    const report = (line?: PullLine): void => {
      if (!line || tracker.push(line)) onProgress?.(tracker.snapshot('pulling'));
    };
    onProgress?.(tracker.snapshot('pulling', 'starting'));
    const layers = this.manifest(image);
    if (!layers) {
      const why = `manifest for ${image} not found: manifest unknown`;
      onProgress?.(tracker.snapshot('failed', why));
      throw new EdgehookError('NOT_FOUND', `image ${image} is not on this device and pulling it failed (is a registry reachable?): ${why}`);
    }
    report({ status: `Pulling from ${image.replace(/:[^/]*$/, '')}`, id: image.split(':')[1] ?? 'latest' });
    const todo = layers.filter((l) => !have.has(l.id));
    for (const l of layers) report(have.has(l.id) ? { status: 'Already exists', id: l.id } : { status: 'Pulling fs layer', id: l.id });
    const rate = (this.opts.bytesPerSecond ?? 2_000_000) / 1000;
    const started = this.opts.clock.monotonic();
    const done = new Set<string>();
    while (done.size < todo.length) {
      await new Promise((r) => setTimeout(r, this.opts.tickMs ?? 100));
      const bytes = Math.round((this.opts.clock.monotonic() - started) * rate);
      for (const l of todo) {
        if (done.has(l.id)) continue;
        if (bytes < l.size) report({ status: 'Downloading', id: l.id, progressDetail: { current: bytes, total: l.size } });
        else {
          done.add(l.id);
          report({ status: 'Download complete', id: l.id });
          report({ status: 'Pull complete', id: l.id });
        }
      }
    }
    onProgress?.(tracker.snapshot('done', `Status: Downloaded newer image for ${image}`));
    return layers;
  }
}
