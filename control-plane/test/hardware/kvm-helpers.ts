import WebSocket from 'ws';
import { ADMIN_PASSWORD, enrolledAgent, withControlPlane, type AgentProcess, type Api, type SuiteContext } from '../helpers/harness.js';

export const KVMD_ADMIN = { 'x-kvmd-user': 'admin', 'x-kvmd-passwd': ADMIN_PASSWORD };
export const basic = (user: string, pass: string) => ({ authorization: `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}` });

/** A raw request as curl would send it: no JSON body unless given, headers as passed. */
export async function curl(url: string, opts: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<{ status: number; body: any; text: string; headers: Headers }> {
  const init: RequestInit = { method: opts.method ?? 'GET', headers: opts.headers ?? {} };
  if (opts.body !== undefined) init.body = opts.body;
  // A kept-alive connection the server is closing at that moment fails the request: GETs retry once.
  const res = await fetch(url, init).catch((err: unknown) => {
    if (init.method !== 'GET') throw err;
    return fetch(url, init);
  });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // plain text (log, metrics)
  }
  return { status: res.status, body, text, headers: res.headers };
}

export interface KvmSocket {
  ws: WebSocket;
  frames: { event_type: string; event: any; at: number }[];
  next(type: string, pred?: (e: any) => boolean, timeoutMs?: number): Promise<{ event: any; at: number }>;
  close(): void;
}

/** A PiKVM event socket; `next` waits for a frame of a type that arrives after the call. */
export function kvmSocket(baseUrl: string, device: string, headers: Record<string, string>): Promise<KvmSocket> {
  const ws = new WebSocket(`${baseUrl.replace('http', 'ws')}/kvm/${device}/api/ws?stream=0`, { headers });
  const frames: KvmSocket['frames'] = [];
  const waiters = new Set<(f: KvmSocket['frames'][number]) => void>();
  ws.on('message', (d, isBinary) => {
    if (isBinary) return; // kvmd's binary pong; tests that want it listen themselves
    const f = { ...JSON.parse(d.toString()), at: performance.now() };
    frames.push(f);
    for (const w of waiters) w(f);
  });
  const next: KvmSocket['next'] = (type, pred = () => true, timeoutMs = 5000) =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        waiters.delete(w);
        reject(new Error(`no ${type} frame within ${timeoutMs} ms (got ${frames.map((f) => f.event_type).join(', ')})`));
      }, timeoutMs);
      const w = (f: KvmSocket['frames'][number]) => {
        if (f.event_type !== type || !pred(f.event)) return;
        clearTimeout(timer);
        waiters.delete(w);
        resolve(f);
      };
      waiters.add(w);
    });
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve({ ws, frames, next, close: () => ws.close() }));
    ws.once('error', reject);
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
  });
}

/** A user with a role made of exactly these permissions. */
export async function userWith(api: Api, name: string, permissions: string[]): Promise<{ user: string; pass: string }> {
  const role = await api.request('POST', '/api/roles', { name: `${name}-role`, permissions });
  if (role.status !== 201 && role.status !== 200) throw new Error(`role: ${role.status} ${JSON.stringify(role.body)}`);
  const pass = 'operator-password-1';
  const user = await api.request('POST', '/api/users', { username: name, password: pass, roleName: `${name}-role` });
  if (user.status !== 201 && user.status !== 200) throw new Error(`user: ${user.status} ${JSON.stringify(user.body)}`);
  return { user: name, pass };
}

export interface KvmContext extends SuiteContext {
  agent: AgentProcess & { deviceId: string };
  /** `<control plane>/kvm/<deviceId>/api` */
  kvm: string;
}

/** A control plane with one real agent on the simulated board, for the PiKVM facade suites. */
export function withSimulatedBoard(s: { before(fn: (ctx: KvmContext) => Promise<void>): void; after(fn: (ctx: KvmContext) => Promise<void>): void }): void {
  withControlPlane(s);
  s.before(async (ctx) => {
    ctx.agent = await enrolledAgent(ctx.cp, ctx.api, { profile: 'simulated' });
    ctx.kvm = `${ctx.cp.url}/kvm/${ctx.agent.deviceId}/api`;
  });
}
