import { nodeCrypto } from '@edgehook/shared/node-builtins';
import { readFileSync, existsSync } from 'node:fs';
import { EdgehookError, type Logger, type StreamOpenedInfo, type StreamSpec } from '@edgehook/shared';
import type { AgentStream, StreamKind } from '../streams/stream-host.js';
import type { Pty, PtyFactory } from './pty-factory.js';

export interface PtySessionsOptions {
  factory: PtyFactory;
  log: Logger;
  /** Bytes of recent output kept per session for a reattach. */
  scrollbackBytes?: number;
  /** How long a detached session lives waiting for its operator. */
  detachedTtlMs?: number;
  maxSessions?: number;
  /** Where allowed shells are listed. */
  shellsFile?: string;
  cwd?: string;
}

interface Session {
  id: string;
  pty: Pty;
  scrollback: Buffer[];
  scrollbackSize: number;
  stream: AgentStream | undefined;
  paused: boolean;
  detachTimer: NodeJS.Timeout | undefined;
  offDrain: (() => void) | undefined;
}

function allowedShells(file: string): string[] {
  try {
    return readFileSync(file, 'utf8')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l.startsWith('/'));
  } catch {
    return [];
  }
}

/**
 * Interactive shells. A session outlives its stream: when the operator's socket goes away the pty
 * keeps running detached (output goes to a bounded scrollback) until it is reattached or expires.
 */
export class PtySessions implements StreamKind<'pty'> {
  private readonly sessions = new Map<string, Session>();
  private readonly scrollbackBytes: number;
  private readonly detachedTtlMs: number;
  private readonly maxSessions: number;

  constructor(private readonly opts: PtySessionsOptions) {
    this.scrollbackBytes = opts.scrollbackBytes ?? 64 * 1024;
    this.detachedTtlMs = opts.detachedTtlMs ?? 5 * 60_000;
    this.maxSessions = opts.maxSessions ?? 32;
  }

  get count(): number {
    return this.sessions.size;
  }

  private pickShell(requested: string | undefined): string {
    const shells = allowedShells(this.opts.shellsFile ?? '/etc/shells');
    if (requested !== undefined) {
      if (!shells.includes(requested)) throw new EdgehookError('BAD_REQUEST', `shell ${requested} is not listed in /etc/shells`);
      return requested;
    }
    const preferred = [process.env['SHELL'], '/bin/bash', '/bin/sh'].find((s) => s && (shells.length === 0 || shells.includes(s)) && existsSync(s));
    return preferred ?? '/bin/sh';
  }

  async open(spec: StreamSpec<'pty'>, stream: AgentStream): Promise<StreamOpenedInfo<'pty'>> {
    let session: Session;
    let reattached = false;
    if (spec.attach !== undefined) {
      const found = this.sessions.get(spec.attach);
      if (!found) throw new EdgehookError('NOT_FOUND', `no shell session ${spec.attach} (it ended or expired)`);
      session = found;
      reattached = true;
      // Someone else holds it: the newest operator wins, the other is told why.
      if (session.stream) {
        const old = session.stream;
        this.unbind(session);
        old.notice('this session was attached from another connection');
        old.end({ status: 'rejected', reason: 'reattached elsewhere' });
      }
      session.pty.resize(spec.cols, spec.rows);
    } else {
      if (this.sessions.size >= this.maxSessions) throw new EdgehookError('CONFLICT', `too many shell sessions (${this.maxSessions})`);
      const shell = this.pickShell(spec.shell);
      const env: Record<string, string> = {};
      for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith('EDGEHOOK_')) env[k] = v;
      env['TERM'] = 'xterm-256color';
      const pty = await this.opts.factory.spawn(shell, [], { cols: spec.cols, rows: spec.rows, cwd: this.opts.cwd ?? env['HOME'] ?? '/', env });
      session = { id: nodeCrypto().randomBytes(9).toString('base64url'), pty, scrollback: [], scrollbackSize: 0, stream: undefined, paused: false, detachTimer: undefined, offDrain: undefined };
      this.sessions.set(session.id, session);
      pty.onData((d) => this.onOutput(session, d));
      pty.onExit((exit) => {
        this.sessions.delete(session.id);
        if (session.detachTimer) clearTimeout(session.detachTimer);
        const s = session.stream;
        this.unbind(session);
        s?.end({ status: 'fulfilled', value: exit, exitCode: exit.exitCode, signal: exit.signal });
      });
    }
    this.bind(session, stream);
    if (reattached && session.scrollbackSize > 0) stream.write(Buffer.concat(session.scrollback));
    return { sessionId: session.id, pid: session.pty.pid, reattached };
  }

  private bind(session: Session, stream: AgentStream): void {
    if (session.detachTimer) clearTimeout(session.detachTimer);
    session.detachTimer = undefined;
    session.stream = stream;
    session.offDrain = stream.onDrain(() => {
      if (session.paused && session.stream === stream) {
        session.paused = false;
        session.pty.resume();
      }
    });
    stream.onInput((data, done) => {
      session.pty.write(data);
      done();
    });
    stream.onCommand((cmd) => {
      if (cmd.type === 'resize') session.pty.resize(cmd.cols, cmd.rows);
      else if (cmd.type === 'cancel') session.pty.kill();
    });
    stream.onGone(() => {
      if (session.stream !== stream) return;
      this.unbind(session);
      if (!this.sessions.has(session.id)) return;
      session.detachTimer = setTimeout(() => {
        this.opts.log.info('detached shell expired', { sessionId: session.id });
        session.pty.kill();
      }, this.detachedTtlMs);
      session.detachTimer.unref();
    });
  }

  private unbind(session: Session): void {
    session.offDrain?.();
    session.offDrain = undefined;
    session.stream = undefined;
    // Nobody is reading: let the program run on, its output only lands in the scrollback.
    if (session.paused) {
      session.paused = false;
      session.pty.resume();
    }
  }

  private onOutput(session: Session, data: Buffer): void {
    session.scrollback.push(data);
    session.scrollbackSize += data.length;
    while (session.scrollbackSize > this.scrollbackBytes && session.scrollback.length > 1) {
      const dropped = session.scrollback.shift();
      session.scrollbackSize -= dropped?.length ?? 0;
    }
    const stream = session.stream;
    if (stream && !stream.write(data) && !session.paused) {
      session.paused = true;
      session.pty.pause();
    }
  }

  /** Kills every session (agent shutdown). */
  closeAll(): void {
    for (const s of this.sessions.values()) {
      if (s.detachTimer) clearTimeout(s.detachTimer);
      s.pty.kill();
    }
  }
}
