import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import WebSocket from 'ws';
import { createEnrollmentToken, spawnAgent, tempDir, waitFor, type AgentProcess, type Api } from '../helpers/harness.js';

/** Actions the test agents declare, beside the demo's `echo`. */
export const TEST_ACTIONS = {
  actions: [
    { name: 'echo', command: ['cat'], args: 'ignore', params: { min: 0, max: 64 }, value: 'params' },
    { name: 'big', command: ['sh', '-c', 'yes 0123456789abcdef | head -c {0}'], params: { min: 1, max: 1, pattern: '[0-9]{1,9}' } },
    { name: 'tree', command: ['sh', '-c', 'sleep 300 & sleep 300 & echo started; wait'], args: 'ignore' },
    { name: 'slow', command: ['sleep', '30'], args: 'ignore', timeoutMs: 500 },
    { name: 'fail', command: ['sh', '-c', 'echo oops >&2; exit 3'], args: 'ignore' },
    { name: 'stdin-count', command: ['wc', '-c'], args: 'ignore' },
    {
      name: 'listen',
      command: ['node', '-e', "require('net').createServer().listen(0,'127.0.0.1',function(){console.log('port '+this.address().port)}); setInterval(()=>{},1000)"],
      args: 'ignore',
    },
  ],
};

/** A real agent process with the test actions, enrolled and online. */
export async function execAgent(cp: { url: string }, api: Api, opts: { pty?: 'node-pty' | 'simulated'; extraArgs?: string[] } = {}): Promise<AgentProcess & { deviceId: string }> {
  const stateDir = await tempDir('edgehook-exec-agent-');
  const actionsFile = join(stateDir, 'actions.json');
  await writeFile(actionsFile, JSON.stringify(TEST_ACTIONS));
  const token = await createEnrollmentToken(api);
  const agent = spawnAgent({
    server: cp.url,
    token,
    stateDir,
    hostname: `exec-${Math.random().toString(36).slice(2, 8)}`,
    extraArgs: ['--actions', actionsFile, '--pty', opts.pty ?? 'node-pty', ...(opts.extraArgs ?? [])],
  });
  const deviceId = await waitFor('agent enrollment', async () => /"deviceId":"([^"]+)"/.exec(agent.output())?.[1], 15_000);
  await waitFor('device online', async () => (await api.request('GET', `/api/devices/${deviceId}`)).body?.online === true, 15_000);
  return Object.assign(agent, { deviceId });
}

export interface Frame {
  binary: boolean;
  data: Buffer;
}

/** A websocket that records every frame and the close code/reason. */
export interface Recorded {
  ws: WebSocket;
  frames: Frame[];
  closed: Promise<{ code: number; reason: string }>;
  text(): string;
}

export function record(ws: WebSocket): Recorded {
  const frames: Frame[] = [];
  ws.on('message', (d, isBinary) => frames.push({ binary: isBinary, data: Buffer.isBuffer(d) ? d : Buffer.from(d as ArrayBuffer) }));
  const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  ws.on('error', () => undefined);
  return { ws, frames, closed, text: () => frames.filter((f) => !f.binary).map((f) => f.data.toString()).join('') };
}

export function openSocket(url: string, headers: Record<string, string>, protocol?: string): Promise<Recorded> {
  const ws = protocol ? new WebSocket(url, protocol, { headers }) : new WebSocket(url, { headers });
  const rec = record(ws);
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(rec));
    ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
    ws.once('error', reject);
  });
}

/** The HTTP status of an upgrade attempt (101 when it succeeded). */
export function upgradeStatus(url: string, headers: Record<string, string>, protocol?: string): Promise<number> {
  return new Promise((resolve) => {
    const ws = protocol ? new WebSocket(url, protocol, { headers }) : new WebSocket(url, { headers });
    ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    ws.on('open', () => {
      ws.close();
      resolve(101);
    });
    ws.on('error', () => undefined);
  });
}

export function wsUrl(cp: { url: string }, path: string): string {
  return cp.url.replace(/^http/, 'ws') + path;
}
