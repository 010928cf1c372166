import type { GpioDriver, Level, LineSpec } from './gpio.driver.js';

interface SimLine {
  spec: LineSpec;
  level: Level;
  watchers: Set<(level: Level) => void>;
}

/**
 * GPIO lines in memory. The world outside the board (a simulated PC, a door contact) drives
 * inputs with `drive()` and observes outputs with `onOutput()`; callbacks run synchronously so
 * a simulated wire has no latency of its own.
 */
export class SimGpioDriver implements GpioDriver {
  readonly kind = 'simulated';
  private readonly lines = new Map<number, SimLine>();
  private readonly outputWatchers = new Map<number, Set<(level: Level) => void>>();
  /** Levels set by the outside world before a line was claimed. */
  private readonly external = new Map<number, Level>();

  async claim(spec: LineSpec): Promise<void> {
    if (this.lines.has(spec.line)) throw new Error(`line ${spec.line} is already claimed`);
    const level = spec.direction === 'output' ? (spec.initial ?? 0) : (this.external.get(spec.line) ?? 0);
    this.lines.set(spec.line, { spec, level, watchers: new Set() });
  }

  private get(line: number): SimLine {
    const l = this.lines.get(line);
    if (!l) throw new Error(`line ${line} is not claimed`);
    return l;
  }

  async read(line: number): Promise<Level> {
    return this.get(line).level;
  }

  async write(line: number, level: Level): Promise<void> {
    const l = this.get(line);
    if (l.spec.direction !== 'output') throw new Error(`line ${line} is an input`);
    if (l.level === level) return;
    l.level = level;
    for (const w of this.outputWatchers.get(line) ?? []) w(level);
  }

  watch(line: number, onLevel: (level: Level) => void): () => void {
    const l = this.get(line);
    l.watchers.add(onLevel);
    return () => l.watchers.delete(onLevel);
  }

  async close(): Promise<void> {
    this.lines.clear();
    this.outputWatchers.clear();
  }

  /** The outside world sets an input line's physical level (fires watchers per the line's edge). */
  drive(line: number, level: Level): void {
    this.external.set(line, level);
    const l = this.lines.get(line);
    if (!l || l.spec.direction !== 'input' || l.level === level) return;
    l.level = level;
    const edge = l.spec.edge ?? 'none';
    const fires = edge === 'both' || (edge === 'rising' && level === 1) || (edge === 'falling' && level === 0);
    if (fires) for (const w of l.watchers) w(level);
  }

  /** Observes writes to an output line (the simulated PC listens to its buttons this way). */
  onOutput(line: number, cb: (level: Level) => void): () => void {
    let set = this.outputWatchers.get(line);
    if (!set) {
      set = new Set();
      this.outputWatchers.set(line, set);
    }
    set.add(cb);
    return () => set.delete(cb);
  }

  /** Current physical level of any claimed line (tests). */
  level(line: number): Level | undefined {
    return this.lines.get(line)?.level;
  }
}
