import type { Pty, PtyExit, PtyFactory, PtyOptions } from './pty-factory.js';

let nextPid = 900_000;

/**
 * A terminal without a kernel: echoes what is typed like a cooked tty, answers a line with the
 * prompt again, `exit` ends it, Ctrl-C prints ^C. Lets relay tests and demos run where no pty can.
 */
class SimulatedPty implements Pty {
  readonly pid = nextPid++;
  private dataListeners: Array<(d: Buffer) => void> = [];
  private exitListeners: Array<(e: PtyExit) => void> = [];
  private exitInfo: PtyExit | undefined;
  private line = '';
  private paused = false;
  private held: Buffer[] = [];
  cols: number;
  rows: number;

  constructor(opts: PtyOptions) {
    this.cols = opts.cols;
    this.rows = opts.rows;
    setImmediate(() => this.emit('$ '));
  }
  private emit(text: string): void {
    if (this.exitInfo) return;
    const buf = Buffer.from(text);
    if (this.paused) this.held.push(buf);
    else for (const l of this.dataListeners) l(buf);
  }
  onData(listener: (data: Buffer) => void): void {
    this.dataListeners.push(listener);
  }
  onExit(listener: (exit: PtyExit) => void): void {
    if (this.exitInfo) listener(this.exitInfo);
    else this.exitListeners.push(listener);
  }
  write(data: Buffer): void {
    if (this.exitInfo) return;
    for (const ch of data.toString('utf8')) {
      if (ch === '\r' || ch === '\n') {
        const cmd = this.line.trim();
        this.line = '';
        this.emit('\r\n');
        if (cmd === 'exit') return this.finish({ exitCode: 0, signal: null });
        if (cmd === 'stty size') this.emit(`${this.rows} ${this.cols}\r\n`);
        else if (cmd.startsWith('echo ')) this.emit(cmd.slice(5) + '\r\n');
        this.emit('$ ');
      } else if (ch === '\x03') {
        this.line = '';
        this.emit('^C\r\n$ ');
      } else {
        this.line += ch;
        this.emit(ch);
      }
    }
  }
  resize(cols: number, rows: number): void {
    this.cols = cols;
    this.rows = rows;
  }
  pause(): void {
    this.paused = true;
  }
  resume(): void {
    this.paused = false;
    const held = this.held;
    this.held = [];
    for (const b of held) for (const l of this.dataListeners) l(b);
  }
  kill(): void {
    this.finish({ exitCode: 0, signal: 'SIGHUP' });
  }
  private finish(exit: PtyExit): void {
    if (this.exitInfo) return;
    this.exitInfo = exit;
    setImmediate(() => {
      for (const l of this.exitListeners) l(exit);
    });
  }
}

export function simulatedPtyFactory(): PtyFactory {
  return {
    name: 'simulated',
    async spawn(_file: string, _args: string[], opts: PtyOptions): Promise<Pty> {
      return new SimulatedPty(opts);
    },
  };
}
