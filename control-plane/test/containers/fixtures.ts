import WebSocket from 'ws';
import { createEnrollmentToken, spawnAgent, tempDir, waitFor, type AgentProcess, type Api } from '../helpers/harness.js';

/** A real agent process using the given Docker-compatible socket (or the simulated engine). */
export async function containerAgent(cp: { url: string }, api: Api, engine: { socket: string } | 'simulated', hostname = `ct-${Math.random().toString(36).slice(2, 8)}`): Promise<AgentProcess & { deviceId: string }> {
  const token = await createEnrollmentToken(api);
  const stateDir = await tempDir('edgehook-agent-');
  const extraArgs = engine === 'simulated' ? ['--container-engine', 'simulated'] : ['--docker-socket', engine.socket];
  const agent = spawnAgent({ server: cp.url, token, stateDir, hostname, extraArgs });
  const deviceId = await waitFor('agent enrollment', async () => /"deviceId":"([^"]+)"/.exec(agent.output())?.[1], 20_000);
  await waitFor('device online', async () => (await api.request('GET', `/api/devices/${deviceId}`)).body?.online === true, 20_000);
  return Object.assign(agent, { deviceId });
}

export interface WingsClient {
  ws: WebSocket;
  events: Array<{ event: string; args: string[] }>;
  send(event: string, ...args: string[]): void;
  /** Waits for an event matching the predicate, among those not yet taken. */
  next(event: string, match?: (args: string[]) => boolean, timeoutMs?: number): Promise<string[]>;
  closed: Promise<{ code: number; reason: string }>;
}

/** A Wings console client as the Pterodactyl panel is one: token from the API, then `auth` in-band. */
export async function wingsConsole(cp: { url: string }, api: Api, deviceId: string, ref: string, opts: { auth?: boolean } = {}): Promise<WingsClient> {
  const res = await api.request('GET', `/api/devices/${deviceId}/containers/${ref}/websocket`);
  if (res.status !== 200) throw new Error(`console token refused: ${res.status} ${JSON.stringify(res.body)}`);
  const ws = new WebSocket(cp.url.replace(/^http/, 'ws') + res.body.data.socket);
  const events: Array<{ event: string; args: string[] }> = [];
  let taken = 0;
  ws.on('message', (raw) => {
    const frame = JSON.parse(raw.toString());
    events.push({ event: frame.event, args: frame.args ?? [] });
  });
  ws.on('error', () => undefined);
  const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  const client: WingsClient = {
    ws,
    events,
    closed,
    send: (event, ...args) => ws.send(JSON.stringify({ event, args })),
    async next(event, match = () => true, timeoutMs = 20_000) {
      const found = await waitFor(`wings event ${event}`, () => {
        for (let i = taken; i < events.length; i++) {
          const e = events[i];
          if (e && e.event === event && match(e.args)) {
            taken = i + 1;
            return e.args;
          }
        }
        return undefined;
      }, timeoutMs);
      return found;
    },
  };
  if (opts.auth !== false) {
    client.send('auth', res.body.data.token);
    await client.next('auth success');
  }
  return client;
}
