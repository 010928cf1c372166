import { spawn, type ChildProcess } from 'node:child_process';
import { nodeCrypto } from '@edgehook/shared/node-builtins';
import { basename } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { EdgehookError, type Clock, type Logger, type ProcessOpenSpec, type ProcessSignalName, type StreamResult } from '@edgehook/shared';
import type { Actions, ActionSpec } from './actions.js';

/** Where a process's output goes: a live stream (flow-controlled) or a bounded buffer (REST). */
export interface OutputSink {
  /** False: pause the source until `resume` is called. */
  write(data: Buffer, channel: 1 | 2): boolean;
  onResume(listener: () => void): void;
}

export interface ProcSession {
  readonly id: string;
  readonly pid: number;
  readonly argv: string[];
  readonly title: string;
  readonly kind: 'action' | 'arbitrary';
  readonly startedAt: number;
  result: StreamResult | undefined;
  finishedAt: number | undefined;
  readonly done: Promise<StreamResult>;
  writeInput(data: Buffer, done: () => void): void;
  closeInput(): void;
  cancel(reason?: string): void;
}

export interface ProcessManagerOptions {
  actions: Actions;
  clock: Clock;
  log: Logger;
  /** SIGTERM, then SIGKILL after this long. */
  killGraceMs?: number;
  maxProcesses?: number;
  /** Records started groups on disk, so a restart after a crash finds the ones left behind. */
  ledger?: { add(pid: number, title: string): void; remove(pid: number): void };
}

const SIGNALS: readonly ProcessSignalName[] = ['SIGTERM', 'SIGKILL', 'SIGHUP', 'SIGINT'];

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // the group is gone
  }
}

/**
 * Starts and tracks the processes the agent runs for operators. Each runs detached in its own
 * process group, so cancel reaches the whole tree; only these groups can be signalled.
 */
export class ProcessManager {
  private readonly sessions = new Map<string, ProcSession>();
  private readonly killGraceMs: number;

  constructor(private readonly opts: ProcessManagerOptions) {
    this.killGraceMs = opts.killGraceMs ?? 3000;
  }

  get actions(): Actions {
    return this.opts.actions;
  }

  get all(): ProcSession[] {
    return [...this.sessions.values()];
  }

  find(id: string): ProcSession | undefined {
    return this.sessions.get(id);
  }

  running(): ProcSession[] {
    return this.all.filter((s) => s.result === undefined);
  }

  /** Removes a finished session from the table (its owner no longer needs the result). */
  forget(id: string): void {
    const s = this.sessions.get(id);
    if (s && s.result !== undefined) this.sessions.delete(id);
  }

  signal(pid: number, signal: ProcessSignalName): void {
    if (!SIGNALS.includes(signal)) throw new EdgehookError('BAD_REQUEST', `signal ${signal} is not allowed`);
    const session = this.running().find((s) => s.pid === pid);
    if (!session) throw new EdgehookError('FORBIDDEN', `pid ${pid} was not started by this agent (or has ended); refusing to signal it`);
    killGroup(pid, signal);
  }

  private describe(spec: ProcessOpenSpec): { argv: string[]; action: ActionSpec | undefined; cwd: string | undefined; env: Record<string, string> } {
    if ('call' in spec) {
      const { action, argv } = this.opts.actions.resolve(spec.call, spec.params);
      return { argv, action, cwd: action.cwd, env: action.env };
    }
    return { argv: spec.argv, action: undefined, cwd: spec.cwd, env: spec.env ?? {} };
  }

  /** Spawns and resolves once the program runs (a missing binary is refused here, not later). */
  async start(spec: ProcessOpenSpec, sink: OutputSink): Promise<ProcSession> {
    if (this.running().length >= (this.opts.maxProcesses ?? 64)) throw new EdgehookError('CONFLICT', 'too many processes running on this device');
    const { argv, action, cwd, env } = this.describe(spec);
    const [file, ...args] = argv;
    if (file === undefined) throw new EdgehookError('BAD_REQUEST', 'empty command');
    const childEnv: Record<string, string> = {};
    for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith('EDGEHOOK_')) childEnv[k] = v;
    Object.assign(childEnv, env);
    const child: ChildProcess = spawn(file, args, { cwd, env: childEnv, detached: true, stdio: ['pipe', 'pipe', 'pipe'] });
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', (err) => reject(new EdgehookError('BAD_REQUEST', `cannot start ${file}: ${err.message}`)));
    });
    const pid = child.pid ?? 0;
    const id = nodeCrypto().randomBytes(12).toString('base64url');
    let cancelled: string | undefined;
    let killTimer: NodeJS.Timeout | undefined;
    let timeoutTimer: NodeJS.Timeout | undefined;
    let paused = false;
    let inputClosed = false;

    const pump = (stream: NodeJS.ReadableStream | null, channel: 1 | 2): void => {
      stream?.on('data', (d: Buffer) => {
        if (!sink.write(d, channel)) {
          paused = true;
          child.stdout?.pause();
          child.stderr?.pause();
        }
      });
    };
    pump(child.stdout, 1);
    pump(child.stderr, 2);
    sink.onResume(() => {
      paused = false;
      child.stdout?.resume();
      child.stderr?.resume();
    });
    child.stdin?.on('error', () => undefined); // EPIPE when the program stops reading: not our failure

    const cancel = (reason = 'cancelled'): void => {
      if (session.result !== undefined || cancelled) return;
      cancelled = reason;
      killGroup(pid, 'SIGTERM');
      killTimer = setTimeout(() => killGroup(pid, 'SIGKILL'), this.killGraceMs);
    };
    if (action?.timeoutMs) timeoutTimer = setTimeout(() => cancel(`timed out after ${action.timeoutMs} ms`), action.timeoutMs);

    const done = new Promise<StreamResult>((resolve) => {
      let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
      let closed = false;
      const finish = (): void => {
        if (!exit || session.result !== undefined) return;
        if (killTimer) clearTimeout(killTimer);
        if (timeoutTimer) clearTimeout(timeoutTimer);
        // The leader is gone; anything left in its group (background children) goes too.
        killGroup(pid, 'SIGKILL');
        this.opts.ledger?.remove(pid);
        const { code, signal } = exit;
        let result: StreamResult;
        if (cancelled) result = { status: 'rejected', reason: cancelled, exitCode: code, signal };
        else if (signal) result = { status: 'rejected', reason: `killed by ${signal}`, exitCode: code, signal };
        else if (code !== 0) result = { status: 'rejected', reason: `exited with code ${code}`, exitCode: code, signal };
        else {
          const value = action?.value === 'params' && 'call' in spec ? spec.params : action?.value === 'none' ? undefined : { exitCode: 0 };
          result = value === undefined ? { status: 'fulfilled', exitCode: 0, signal: null } : { status: 'fulfilled', value, exitCode: 0, signal: null };
        }
        session.result = result;
        session.finishedAt = this.opts.clock.now();
        resolve(result);
      };
      child.once('exit', (code, signal) => {
        exit = { code, signal };
        if (closed) return finish();
        // Output is complete on 'close'. A grandchild holding the pipes open must not hold the
        // result forever: unless we are only waiting on the reader (flow control), give up after 2 s.
        const check = (): void => {
          if (closed) return;
          if (paused) return void setTimeout(check, 2000).unref();
          child.stdout?.destroy();
          child.stderr?.destroy();
          finish();
        };
        setTimeout(check, 2000).unref();
      });
      child.once('close', () => {
        closed = true;
        finish();
      });
    });

    const session: ProcSession = {
      id,
      pid,
      argv,
      title: action ? action.name : basename(file),
      kind: action ? 'action' : 'arbitrary',
      startedAt: this.opts.clock.now(),
      result: undefined,
      finishedAt: undefined,
      done,
      writeInput(data, ack) {
        if (inputClosed || !child.stdin || child.stdin.destroyed) return ack();
        child.stdin.write(data, () => ack());
      },
      closeInput() {
        if (inputClosed) return;
        inputClosed = true;
        child.stdin?.end();
      },
      cancel,
    };
    this.sessions.set(id, session);
    this.opts.ledger?.add(pid, session.title);
    this.opts.log.info('process started', { id, pid, title: session.title, kind: session.kind });
    return session;
  }

  /** Cancels everything (agent shutdown). */
  cancelAll(): void {
    for (const s of this.running()) s.cancel('the agent is shutting down');
  }
}

/** Output kept for REST callers: the tail, as text. */
export class TailBuffer implements OutputSink {
  private text = '';
  private readonly decoder = new StringDecoder('utf8');
  truncated = false;
  constructor(private readonly maxChars = 1024 * 1024) {}
  write(data: Buffer): boolean {
    this.text += this.decoder.write(data);
    if (this.text.length > this.maxChars) {
      this.text = this.text.slice(this.text.length - this.maxChars);
      this.truncated = true;
    }
    return true;
  }
  onResume(): void {
    // never pauses
  }
  get value(): string {
    return this.text;
  }
}
