import { nodeCrypto } from '@edgehook/shared/node-builtins';
import { hostname } from 'node:os';
import { checkConfigValue, EdgehookError, findConfigEntry, type Clock, type ConfigClassDecl, type ConfigValue, type DesiredEntry, type Interaction, type InteractionEvent, type PerfkitState, type ReportedEntry, type SessionInfo, type SessionRegister } from '@edgehook/shared';

export interface ImageFrame {
  seq: number;
  jpeg: Buffer;
  width: number;
  height: number;
  at: number;
}

interface Session {
  info: SessionInfo;
  images: Map<string, ImageFrame>;
  interactions: Interaction[];
  interactionSeq: number;
}

interface Scope {
  classes: ConfigClassDecl[];
  reported: Map<string, { value: ConfigValue; version: number }>;
}

/** Bounds: a misbehaving program cannot grow the agent without limit. */
export const LIMITS = { liveSessions: 64, endedKept: 16, imagesPerSession: 16, interactionsKept: 1024, scopes: 64, entries: 2048 };

/**
 * The device's Perfkit sessions: what programs registered over the local endpoint, their
 * declared configs and reported values, the desired values from the control plane, their latest
 * images and the interactions waiting for them. Every change calls `onChange` (the capability
 * publishes the state) and wakes the long-polls waiting on it.
 */
export class SessionRegistry {
  private readonly sessions = new Map<string, Session>();
  private readonly scopes = new Map<string, Scope>();
  private desired = new Map<string, Map<string, { value: ConfigValue; version: number }>>();
  /** Bumped per scope when its desired values change: a session's config long-poll waits on it. */
  private readonly revs = new Map<string, number>();
  private waiters = new Set<() => void>();
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly deps: { clock: Clock; onChange: () => void; pidAlive?: (pid: number) => boolean; pidCheckMs?: number }) {
    this.timer = setInterval(() => this.reapGone(), deps.pidCheckMs ?? 2000);
    this.timer.unref();
  }

  close(): void {
    clearInterval(this.timer);
    this.wake();
  }

  private changed(): void {
    this.deps.onChange();
    this.wake();
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = new Set();
    for (const f of w) f();
  }

  /** Resolves on the next change or after `ms`, whichever comes first. */
  nextChange(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(t);
        this.waiters.delete(done);
        resolve();
      };
      const t = setTimeout(done, ms);
      this.waiters.add(done);
    });
  }

  register(r: SessionRegister): SessionInfo {
    const live = [...this.sessions.values()].filter((s) => s.info.endedAt === null);
    // The same program registering again (a restart of its client library) replaces its session.
    for (const s of live) if (s.info.name === r.name && s.info.pid === r.pid) this.end(s, 'replaced');
    if (live.filter((s) => s.info.endedAt === null).length >= LIMITS.liveSessions) throw new EdgehookError('CONFLICT', `at most ${LIMITS.liveSessions} live sessions`);
    const id = nodeCrypto().randomBytes(9).toString('base64url');
    const info: SessionInfo = { id, name: r.name, pid: r.pid, machine: r.machine ?? hostname(), description: r.description, startedAt: r.startedAt ?? this.deps.clock.now(), endedAt: null, endReason: null, traceGroups: [], images: [] };
    this.sessions.set(id, { info, images: new Map(), interactions: [], interactionSeq: 0 });
    this.changed();
    return info;
  }

  get(id: string): Session {
    const s = this.sessions.get(id);
    if (!s) throw new EdgehookError('NOT_FOUND', `no session ${id}`);
    return s;
  }

  /** A session a program may still act on. */
  live(id: string): Session {
    const s = this.get(id);
    if (s.info.endedAt !== null) throw new EdgehookError('CONFLICT', `session ${id} has ended (${s.info.endReason ?? 'closed'})`);
    return s;
  }

  list(): SessionInfo[] {
    return [...this.sessions.values()].map((s) => ({ ...s.info, images: [...s.images].map(([name, f]) => ({ name, seq: f.seq, width: f.width, height: f.height, at: f.at, bytes: f.jpeg.length })) }));
  }

  endSession(id: string): SessionInfo {
    const s = this.live(id);
    this.end(s, 'closed');
    return s.info;
  }

  private end(s: Session, reason: 'closed' | 'pid-gone' | 'replaced'): void {
    s.info.endedAt = this.deps.clock.now();
    s.info.endReason = reason;
    s.images.clear();
    s.interactions = [];
    const ended = [...this.sessions.values()].filter((x) => x.info.endedAt !== null);
    for (const old of ended.slice(0, Math.max(0, ended.length - LIMITS.endedKept))) this.sessions.delete(old.info.id);
    this.changed();
  }

  reapGone(): void {
    const alive = this.deps.pidAlive ?? pidAlive;
    for (const s of [...this.sessions.values()]) if (s.info.endedAt === null && !alive(s.info.pid)) this.end(s, 'pid-gone');
  }

  traced(id: string, group: string): void {
    const s = this.live(id);
    if (s.info.traceGroups.includes(group)) return;
    if (s.info.traceGroups.length >= 64) throw new EdgehookError('CONFLICT', 'at most 64 trace groups per session');
    s.info.traceGroups.push(group);
    this.changed();
  }

  // ---- configs ----
  declare(scope: string, classes: ConfigClassDecl[]): void {
    if (!this.scopes.has(scope) && this.scopes.size >= LIMITS.scopes) throw new EdgehookError('CONFLICT', `at most ${LIMITS.scopes} config scopes`);
    // The state is one retained MQTT message: the declarations of all scopes together are bounded.
    const count = (cs: readonly ConfigClassDecl[]) => cs.reduce((n, c) => n + c.entries.length, 0);
    const others = [...this.scopes].filter(([name]) => name !== scope).reduce((n, [, s]) => n + count(s.classes), 0);
    if (others + count(classes) > LIMITS.entries) throw new EdgehookError('CONFLICT', `at most ${LIMITS.entries} config entries on this device (all sessions together)`);
    const old = this.scopes.get(scope);
    // Values reported for entries the new declaration no longer has are dropped with them.
    const reported = new Map([...(old?.reported ?? [])].filter(([key]) => findConfigEntry(classes, key)));
    this.scopes.set(scope, { classes, reported });
    this.changed();
  }

  declared(scope: string): ConfigClassDecl[] | undefined {
    return this.scopes.get(scope)?.classes;
  }

  report(scope: string, entries: readonly ReportedEntry[]): void {
    const s = this.scopes.get(scope);
    if (!s) throw new EdgehookError('CONFLICT', `declare the config of ${scope} before reporting values`);
    for (const e of entries) {
      const decl = findConfigEntry(s.classes, e.key);
      if (!decl) throw new EdgehookError('BAD_REQUEST', `${e.key} is not a declared entry of ${scope}`);
      const bad = checkConfigValue(decl, e.value);
      if (bad) throw new EdgehookError('BAD_REQUEST', `${e.key} ${bad}`);
    }
    for (const e of entries) s.reported.set(e.key, { value: e.value, version: e.version });
    this.changed();
  }

  /** The control plane's whole desired document; returns the scopes whose values changed. */
  setDesired(entries: readonly DesiredEntry[]): string[] {
    const next = new Map<string, Map<string, { value: ConfigValue; version: number }>>();
    for (const e of entries) {
      let m = next.get(e.scope);
      if (!m) next.set(e.scope, (m = new Map()));
      m.set(e.key, { value: e.value, version: e.version });
    }
    const touched = new Set<string>();
    for (const scope of new Set([...next.keys(), ...this.desired.keys()])) {
      const a = JSON.stringify([...(this.desired.get(scope) ?? [])]);
      const b = JSON.stringify([...(next.get(scope) ?? [])]);
      if (a !== b) touched.add(scope);
    }
    this.desired = next;
    for (const scope of touched) this.revs.set(scope, (this.revs.get(scope) ?? 0) + 1);
    if (touched.size > 0) this.wake();
    return [...touched];
  }

  /** What a program applies: the desired values of its scope that fit its declaration. */
  desiredFor(scope: string): { rev: number; entries: ReportedEntry[] } {
    const classes = this.scopes.get(scope)?.classes ?? [];
    const entries: ReportedEntry[] = [];
    for (const [key, v] of this.desired.get(scope) ?? []) {
      const decl = findConfigEntry(classes, key);
      if (decl && checkConfigValue(decl, v.value) === null) entries.push({ key, value: v.value, version: v.version });
    }
    return { rev: this.revs.get(scope) ?? 0, entries };
  }

  // ---- images and interactions ----
  putImage(id: string, name: string, frame: Omit<ImageFrame, 'seq' | 'at'>): ImageFrame {
    const s = this.live(id);
    const prev = s.images.get(name);
    if (!prev && s.images.size >= LIMITS.imagesPerSession) throw new EdgehookError('CONFLICT', `at most ${LIMITS.imagesPerSession} images per session`);
    const f: ImageFrame = { ...frame, seq: (prev?.seq ?? 0) + 1, at: this.deps.clock.now() };
    s.images.set(name, f);
    this.changed();
    return f;
  }

  image(id: string, name: string, seq?: number): ImageFrame {
    const f = this.live(id).images.get(name);
    if (!f) throw new EdgehookError('NOT_FOUND', `session ${id} has no image ${name}`);
    if (seq !== undefined && f.seq !== seq) throw new EdgehookError('NOT_FOUND', `frame ${seq} of ${name} is gone (the latest is ${f.seq})`);
    return f;
  }

  interact(id: string, image: string, events: readonly InteractionEvent[]): { accepted: number; lastSeq: number } {
    const s = this.live(id);
    if (!s.images.has(image)) throw new EdgehookError('NOT_FOUND', `session ${id} has no image ${image}`);
    const at = this.deps.clock.now();
    for (const event of events) s.interactions.push({ seq: ++s.interactionSeq, image, at, event });
    // Oldest first out: a session that never reads does not keep every click.
    if (s.interactions.length > LIMITS.interactionsKept) s.interactions.splice(0, s.interactions.length - LIMITS.interactionsKept);
    this.wake();
    return { accepted: events.length, lastSeq: s.interactionSeq };
  }

  interactionsAfter(id: string, after: number): Interaction[] {
    return this.live(id).interactions.filter((i) => i.seq > after);
  }

  state(): PerfkitState {
    return {
      at: this.deps.clock.now(),
      sessions: this.list(),
      configs: [...this.scopes].map(([scope, s]) => ({ scope, classes: s.classes, reported: [...s.reported].map(([key, v]) => ({ key, value: v.value, version: v.version })) })),
    };
  }
}

/** Signal 0 checks existence; EPERM means it exists under another user. */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return err instanceof Error && 'code' in err && err.code === 'EPERM';
  }
}
