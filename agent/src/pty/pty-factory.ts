/** The PTY seam: node-pty on real devices, a simulated terminal for tests and demos without a tty. */

export interface PtyOptions {
  cols: number;
  rows: number;
  cwd: string;
  env: Record<string, string>;
}

export interface PtyExit {
  exitCode: number;
  /** Signal name when the process was killed by one. */
  signal: string | null;
}

export interface Pty {
  readonly pid: number;
  onData(listener: (data: Buffer) => void): void;
  onExit(listener: (exit: PtyExit) => void): void;
  write(data: Buffer): void;
  resize(cols: number, rows: number): void;
  /** Stops reading output (flow control); the program blocks once the kernel buffer fills. */
  pause(): void;
  resume(): void;
  /** Ends the session: SIGHUP to the session, as when a terminal hangs up. Safe to call twice. */
  kill(): void;
}

export interface PtyFactory {
  readonly name: string;
  spawn(file: string, args: string[], opts: PtyOptions): Promise<Pty>;
}
