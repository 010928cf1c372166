import { TestPattern } from './test-pattern.js';

export interface VideoFrame {
  jpeg: Buffer;
  width: number;
  height: number;
  /** Capture time, epoch ms. */
  at: number;
  /** False for ustreamer's "no signal" picture. */
  online: boolean;
}

export interface VideoSourceParams {
  resolution: { width: number; height: number };
  /** 0 = as fast as the source goes. */
  fps: number;
  quality: number;
}

/**
 * Where the screen comes from: the real capture device through ustreamer, or the generated
 * test pattern. `start` resolves once frames are about to flow; `onExit` reports a source that
 * died on its own (the streamer restarts it while viewers remain).
 */
export interface VideoSource {
  readonly kind: 'ustreamer' | 'test-pattern';
  start(params: VideoSourceParams, onFrame: (f: VideoFrame) => void, onExit: (reason: string) => void): Promise<void>;
  stop(): Promise<void>;
}

/** With fps 0, the simulated screen runs at this rate. */
const SIM_MAX_FPS = 60;

/** The simulated capture device: the moving test pattern, paced by a drift-free timer. */
export class TestPatternSource implements VideoSource {
  readonly kind = 'test-pattern';
  private timer: NodeJS.Timeout | undefined;
  private frameNo = 0;
  /** Bumped by stop(): a tick of an older run (stopped from inside onFrame) does not re-arm. */
  private run = 0;

  constructor(private readonly now: () => number = Date.now) {}

  async start(params: VideoSourceParams, onFrame: (f: VideoFrame) => void): Promise<void> {
    await this.stop();
    const pattern = new TestPattern(params.resolution.width, params.resolution.height);
    const interval = 1000 / (params.fps > 0 ? params.fps : SIM_MAX_FPS);
    const started = performance.now();
    let n = 0;
    const run = ++this.run;
    const tick = (): void => {
      const at = this.now();
      onFrame({ jpeg: pattern.render(this.frameNo++, at, params.quality), width: pattern.width, height: pattern.height, at, online: true });
      n++;
      if (run !== this.run) return;
      // Aim at the n-th slot from the start, so a late tick does not slow the rate down.
      const wait = Math.max(0, started + n * interval - performance.now());
      this.timer = setTimeout(tick, wait);
    };
    this.timer = setTimeout(tick, 0);
  }

  async stop(): Promise<void> {
    this.run++;
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}
