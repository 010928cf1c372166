import { closeSync, constants as fsConstants, openSync } from 'node:fs';
import { constants } from 'node:os';
import type { Pty, PtyExit, PtyFactory, PtyOptions } from './pty-factory.js';

/** The part of node-pty we use. Its typings say string, but with `encoding: null` it reads and writes Buffers. */
interface RawPty {
  readonly pid: number;
  /** The slave's path (/dev/pts/N); internal to node-pty, so optional. */
  readonly _pty?: string;
  onData(listener: (data: Buffer | string) => void): { dispose(): void };
  onExit(listener: (e: { exitCode: number; signal?: number }) => void): { dispose(): void };
  write(data: Buffer | string): void;
  resize(cols: number, rows: number): void;
  pause(): void;
  resume(): void;
  kill(signal?: string): void;
}
interface NodePtyModule {
  spawn(file: string, args: string[], opts: { name: string; cols: number; rows: number; cwd: string; env: Record<string, string>; encoding: null }): RawPty;
}

const signalNames = new Map<number, string>(Object.entries(constants.signals).map(([name, n]) => [n, name]));

class NodePty implements Pty {
  private exited = false;
  private readonly exitListeners: Array<(e: PtyExit) => void> = [];
  private exitInfo: PtyExit | undefined;
  private slave: number | undefined;

  constructor(private readonly raw: RawPty) {
    // Linux can report EIO on the master before the last output of an exiting program is readable
    // (measured here: about 1 run in 75 of `echo hi; exit` lost "hi"). Holding our own handle on the
    // slave keeps the master readable until node-pty has drained it (it waits 200 ms after exit).
    try {
      if (raw._pty) this.slave = openSync(raw._pty, fsConstants.O_RDWR | fsConstants.O_NOCTTY);
    } catch {
      // the program already exited: nothing left to protect
    }
    raw.onExit((e) => {
      this.releaseSlave();
      this.exited = true;
      this.exitInfo = { exitCode: e.exitCode, signal: e.signal ? (signalNames.get(e.signal) ?? String(e.signal)) : null };
      for (const l of this.exitListeners) l(this.exitInfo);
    });
  }
  get pid(): number {
    return this.raw.pid;
  }
  onData(listener: (data: Buffer) => void): void {
    this.raw.onData((d) => listener(typeof d === 'string' ? Buffer.from(d) : d));
  }
  onExit(listener: (exit: PtyExit) => void): void {
    if (this.exitInfo) listener(this.exitInfo);
    else this.exitListeners.push(listener);
  }
  write(data: Buffer): void {
    if (!this.exited) this.raw.write(data);
  }
  resize(cols: number, rows: number): void {
    if (!this.exited) this.raw.resize(cols, rows);
  }
  pause(): void {
    this.raw.pause();
  }
  resume(): void {
    this.raw.resume();
  }
  private releaseSlave(): void {
    if (this.slave !== undefined) closeSync(this.slave);
    this.slave = undefined;
  }
  kill(): void {
    if (this.exited) return;
    // Closing on purpose: no trailing output to wait for, so let the master see the hangup now.
    this.releaseSlave();
    try {
      // SIGHUP to the whole session (negative pid): background jobs of the shell go too.
      process.kill(-this.raw.pid, 'SIGHUP');
    } catch {
      // already gone
    }
    this.raw.kill('SIGHUP');
    // A shell that ignores SIGHUP does not keep the pty alive.
    const pid = this.raw.pid;
    setTimeout(() => {
      if (this.exited) return;
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        // gone
      }
    }, 2000).unref();
  }
}

/** Real PTYs; the native module is loaded on first use, so a device without it still runs. */
export function nodePtyFactory(): PtyFactory {
  let mod: Promise<NodePtyModule> | undefined;
  return {
    name: 'node-pty',
    async spawn(file: string, args: string[], opts: PtyOptions): Promise<Pty> {
      mod ??= import('node-pty').then((m): NodePtyModule => m.default ?? m);
      const ptyModule = await mod;
      const raw = ptyModule.spawn(file, args, { name: 'xterm-256color', cols: opts.cols, rows: opts.rows, cwd: opts.cwd, env: opts.env, encoding: null });
      return new NodePty(raw);
    },
  };
}
