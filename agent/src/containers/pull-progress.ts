import type { Clock, PullProgress } from '@edgehook/shared';
import type { PullLine } from './docker-schemas.js';
import type { PullListener } from './container-runtime.js';

interface Layer {
  current: number;
  total: number;
  downloaded: boolean;
  /** Podman's last line names the image id, which is its config blob's digest: that blob is no layer. */
  config?: boolean;
}

// Statuses that name a layer. "Pulling from <repo>" and the final "Digest:"/"Status:" lines carry the
// tag or nothing as their id, and Podman's last "Download complete" names the image: none is a layer.
const NEW_LAYER = new Set(['Pulling fs layer', 'Waiting', 'Downloading', 'Already exists', 'Verifying Checksum', 'Extracting', 'Pull complete']);
// A layer counts as done once its bytes are here (Docker extracts it afterwards; Podman never says "Pull complete").
const DOWNLOADED = new Set(['Download complete', 'Verifying Checksum', 'Extracting', 'Pull complete', 'Already exists']);

/**
 * Folds the engine's per-layer pull lines into one PullProgress: Docker's Pulling fs layer / Waiting /
 * Downloading (progressDetail current/total) / Verifying Checksum / Download complete / Extracting /
 * Pull complete / Already exists, and Podman's compatible subset of them (Pulling fs layer, a
 * Downloading line at most once a second, Download complete, Already exists; its config blob is
 * reported like a layer and recognized by the image id on the final line; docs/containers.md).
 */
export class PullTracker {
  private readonly layers = new Map<string, Layer>();
  private last: string | undefined;

  constructor(private readonly image: string, private readonly server?: string) {}

  /** Takes one line; true when the progress it reports changed. */
  push(line: PullLine): boolean {
    const { status, id } = line;
    if (status) this.last = status;
    if (!status || !id) return status !== undefined;
    let layer = this.layers.get(id);
    if (!layer) {
      if (!NEW_LAYER.has(status)) return false;
      layer = { current: 0, total: 0, downloaded: false };
      this.layers.set(id, layer);
    }
    if (status === 'Downloading') {
      const { current, total } = line.progressDetail ?? {};
      if (total !== undefined && total > 0) layer.total = Math.round(total);
      if (current !== undefined) layer.current = Math.round(Math.min(current, layer.total || current));
    }
    if (status === 'Download complete' && layer.downloaded) {
      layer.config = true;
      return true;
    }
    if (DOWNLOADED.has(status) && !layer.downloaded) {
      layer.downloaded = true;
      if (status !== 'Already exists') layer.current = layer.total = Math.max(layer.total, layer.current);
    }
    return true;
  }

  snapshot(status: PullProgress['status'], message?: string): PullProgress {
    let current = 0;
    let total = 0;
    let done = 0;
    let count = 0;
    for (const l of this.layers.values()) {
      if (l.config) continue;
      count++;
      current += l.current;
      total += l.total;
      if (l.downloaded || status === 'done') done++;
    }
    const text = (message ?? this.last)?.slice(0, 1000);
    return {
      image: this.image,
      ...(this.server ? { server: this.server } : {}),
      status,
      layers: { total: Math.min(count, 1000), done: Math.min(done, 1000) },
      bytes: { current: status === 'done' ? total : current, total },
      ...(text ? { message: text } : {}),
    };
  }
}

/**
 * At most one report per `intervalMs` (the latest wins), and the final one (done or failed) at
 * once: the device link carries a few lines a second however fast the engine writes them.
 */
export function throttledPull(listener: PullListener, clock: Clock, intervalMs = 250): PullListener {
  let lastAt = -Infinity;
  let pending: PullProgress | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const flush = (): void => {
    timer = undefined;
    if (!pending) return;
    const p = pending;
    pending = undefined;
    lastAt = clock.monotonic();
    listener(p);
  };
  return (p) => {
    pending = p;
    if (p.status !== 'pulling') {
      if (timer) clearTimeout(timer);
      flush();
      return;
    }
    const wait = lastAt + intervalMs - clock.monotonic();
    if (wait <= 0) flush();
    else timer ??= setTimeout(flush, wait);
  };
}
