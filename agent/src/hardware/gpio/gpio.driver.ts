/**
 * The GPIO seam: physical line levels by BCM number. Logical meaning (active-low, channels,
 * pulses, busy) lives above it in gpio.controller.ts, so every driver stays this small.
 */
export type Level = 0 | 1;
export type Edge = 'none' | 'rising' | 'falling' | 'both';

export interface LineSpec {
  line: number;
  direction: 'input' | 'output';
  /** Inputs: which edges raise watch callbacks. */
  edge?: Edge | undefined;
  /** Outputs: level driven when claimed; absent leaves the line as found. */
  initial?: Level | undefined;
}

export interface GpioDriver {
  readonly kind: 'sysfs' | 'simulated';
  /** Takes a line for this process; must precede read/write/watch on it. */
  claim(spec: LineSpec): Promise<void>;
  read(line: number): Promise<Level>;
  write(line: number, level: Level): Promise<void>;
  /** Called on every edge of a claimed input whose spec asked for edges. */
  watch(line: number, onLevel: (level: Level) => void): () => void;
  close(): Promise<void>;
}
