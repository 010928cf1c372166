import type { VideoConfig } from '@edgehook/firmware-profiles';
import type { Logger, RpcParamsParsed, StreamerState } from '@edgehook/shared';
import { hwError } from '../errors.js';
import type { VideoFrame, VideoSource } from './video-source.js';

const RESTART_DELAY_MS = 2000;
const SNAPSHOT_TIMEOUT_MS = 10_000;

function parseResolution(r: string): { width: number; height: number } {
  const [w = 0, h = 0] = r.split('x').map(Number);
  return { width: w, height: h };
}

type Viewer = (f: VideoFrame) => void;
/** Per viewer, shown in `clients_stat` as ustreamer does (plus `dropped`: frames skipped for it). */
export interface ViewerStats {
  dropped: number;
}

/**
 * The board's streamer, as kvmd runs it: the source starts with the first viewer (a stream or a
 * snapshot) and stops when the last one leaves; params apply by restarting a running source.
 * Every viewer gets every frame; a viewer that cannot keep up skips frames on its own side.
 */
export class Streamer {
  private readonly viewers = new Map<Viewer, { id: string; stats: ViewerStats }>();
  private nextViewer = 1;
  private running = false;
  private transition: Promise<void> = Promise.resolve();
  private params: { desired_fps: number; quality: number; resolution: string };
  private last: VideoFrame | undefined;
  private frameTimes: number[] = [];
  private restartTimer: NodeJS.Timeout | undefined;
  private readonly listeners = new Set<() => void>();
  private online = false;

  constructor(private readonly deps: { config: VideoConfig | undefined; source: VideoSource | undefined; log: Logger }) {
    const c = deps.config;
    this.params = { desired_fps: c?.desiredFps ?? 30, quality: c?.quality ?? 80, resolution: c?.resolution ?? '1280x720' };
  }

  get enabled(): boolean {
    return this.deps.source !== undefined;
  }

  get viewerCount(): number {
    return this.viewers.size;
  }

  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private changed(): void {
    for (const l of this.listeners) l();
  }

  private resolutions(): string[] {
    return this.deps.config?.resolutions ?? [];
  }

  state(): StreamerState {
    const now = performance.now();
    this.frameTimes = this.frameTimes.filter((t) => now - t < 1000);
    const res = this.last ? { width: this.last.width, height: this.last.height } : parseResolution(this.params.resolution);
    const fps = this.frameTimes.length;
    const resolutions = this.resolutions();
    return {
      features: { quality: true, resolution: resolutions.length > 0, h264: false },
      limits: { desired_fps: { min: 0, max: 120 }, ...(resolutions.length > 0 ? { available_resolutions: resolutions } : {}) },
      params: { desired_fps: this.params.desired_fps, quality: this.params.quality, ...(resolutions.length > 0 ? { resolution: this.params.resolution } : {}) },
      streamer: this.running
        ? {
            instance_id: '',
            encoder: { type: 'CPU', quality: this.params.quality },
            source: { online: this.online, resolution: res, captured_fps: fps, desired_fps: this.params.desired_fps },
            stream: { queued_fps: fps, clients: this.viewers.size, clients_stat: Object.fromEntries([...this.viewers.values()].map((v) => [v.id, { fps, dropped: v.stats.dropped }])) },
            sinks: { jpeg: { has_clients: false }, h264: { has_clients: false } },
          }
        : null,
      snapshot: { saved: null },
    };
  }

  /** Adds a viewer; the returned function removes it (and stops the source after the last). */
  watch(viewer: Viewer, stats: ViewerStats = { dropped: 0 }): () => void {
    if (!this.deps.source) throw hwError('BAD_REQUEST', 'StreamerDisabledError', 'this board profile has no video capture device');
    this.viewers.set(viewer, { id: (this.nextViewer++).toString(16).padStart(16, '0'), stats });
    if (this.viewers.size === 1) this.schedule();
    this.changed();
    let removed = false;
    return () => {
      if (removed) return;
      removed = true;
      this.viewers.delete(viewer);
      if (this.viewers.size === 0) this.schedule();
      this.changed();
    };
  }

  /** One frame: the next one of a running source, or from a source started just for it. */
  snapshot(): Promise<VideoFrame> {
    return new Promise((resolve, reject) => {
      let stop: (() => void) | undefined;
      const timer = setTimeout(() => {
        stop?.();
        reject(hwError('INTERNAL', 'UnavailableError', 'the streamer sent no frame in time'));
      }, SNAPSHOT_TIMEOUT_MS);
      stop = this.watch((f) => {
        clearTimeout(timer);
        stop?.();
        resolve(f);
      });
    });
  }

  async setParams(p: RpcParamsParsed<'streamer.setParams'>): Promise<void> {
    if (p.resolution !== undefined) {
      const list = this.resolutions();
      if (list.length === 0) throw hwError('BAD_REQUEST', 'StreamerResolutionNotSupported', 'This streamer does not support resolution settings');
      if (!list.includes(p.resolution)) throw hwError('BAD_REQUEST', 'ValidatorError', `The argument '${p.resolution}' is not a valid stream resolution (available: ${list.join(', ')})`);
    }
    const next = { ...this.params, ...Object.fromEntries(Object.entries(p).filter(([, v]) => v !== undefined)) };
    if (JSON.stringify(next) === JSON.stringify(this.params)) return;
    this.params = next;
    if (this.running) this.schedule(true);
    this.changed();
  }

  /** Starts or stops the source to match the viewers; one transition at a time. */
  private schedule(restart = false): void {
    this.transition = this.transition.then(() => this.reconcile(restart)).catch((err: unknown) => {
      this.deps.log.warn('streamer transition failed', { err: err instanceof Error ? err.message : String(err) });
    });
  }

  private async reconcile(restart: boolean): Promise<void> {
    const source = this.deps.source;
    if (!source) return;
    const want = this.viewers.size > 0;
    if (this.running && (!want || restart)) {
      clearTimeout(this.restartTimer);
      this.running = false;
      this.last = undefined;
      await source.stop();
      this.deps.log.info('streamer stopped', { restart });
      this.changed();
    }
    if (!this.running && want) {
      this.running = true;
      const params = { resolution: parseResolution(this.params.resolution), fps: this.params.desired_fps, quality: this.params.quality };
      try {
        await source.start(params, (f) => this.frame(f), (reason) => this.died(reason));
        this.deps.log.info('streamer started', { source: source.kind, resolution: this.params.resolution, fps: params.fps });
      } catch (err) {
        this.running = false;
        this.died(err instanceof Error ? err.message : String(err));
      }
      this.changed();
    }
  }

  private frame(f: VideoFrame): void {
    this.last = f;
    this.frameTimes.push(performance.now());
    if (this.frameTimes.length > 240) this.frameTimes.splice(0, this.frameTimes.length - 240);
    if (f.online !== this.online) {
      this.online = f.online;
      this.changed();
    }
    for (const v of [...this.viewers.keys()]) v(f);
  }

  private died(reason: string): void {
    this.deps.log.warn('streamer source ended', { reason });
    this.running = false;
    this.online = false;
    this.changed();
    clearTimeout(this.restartTimer);
    if (this.viewers.size === 0) return;
    this.restartTimer = setTimeout(() => this.schedule(), RESTART_DELAY_MS);
    this.restartTimer.unref();
  }

  async close(): Promise<void> {
    this.viewers.clear();
    clearTimeout(this.restartTimer);
    this.schedule();
    await this.transition;
  }
}
