import WebSocket from 'ws';
import * as z from '@edgehook/shared/zod';
import { decodeJson, WingsFrame } from '@edgehook/shared';
import type { ApiClient } from '../api-client.js';
import { CliError } from '../errors.js';

const ConsoleToken = z.object({ data: z.object({ token: z.string(), socket: z.string() }) });

export interface ConsoleClient {
  send(event: string, ...args: string[]): void;
  onEvent(listener: (event: string, args: string[]) => void): void;
  close(): void;
  readonly closed: Promise<{ code: number; reason: string }>;
}

/**
 * A container console over the Wings protocol, as the Pterodactyl panel does it: fetch a console
 * token, open the socket, send `auth`, and fetch a new token whenever the server says it expires.
 */
export async function openConsole(api: ApiClient, deviceId: string, ref: string): Promise<ConsoleClient> {
  const tokenPath = `/api/devices/${encodeURIComponent(deviceId)}/containers/${encodeURIComponent(ref)}/websocket`;
  const first = await api.json(ConsoleToken, 'GET', tokenPath);
  const ws = new WebSocket(`${api.server.replace(/^http/, 'ws')}${first.data.socket}`, { ...(await api.socketTls()), perMessageDeflate: false });
  const listeners: Array<(event: string, args: string[]) => void> = [];
  const send = (event: string, ...args: string[]): void => {
    if (ws.readyState === ws.OPEN) ws.send(JSON.stringify({ event, args }));
  };
  const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => {
      send('auth', first.data.token);
    });
    ws.once('error', (err) => reject(new CliError(`cannot open the console: ${err.message}`)));
    ws.on('message', (raw) => {
      const frame = decodeJson(WingsFrame, raw.toString());
      if (!frame.ok) return;
      const { event, args = [] } = frame.value;
      if (event === 'auth success') resolve();
      else if (event === 'daemon error' && /^authentication failed/.test(args[0] ?? '')) reject(new CliError(args[0] ?? 'authentication failed'));
      else if (event === 'token expiring') {
        api.json(ConsoleToken, 'GET', tokenPath).then(
          (next) => send('auth', next.data.token),
          () => undefined,
        );
      }
      for (const l of listeners) l(event, args);
    });
    void closed.then(({ reason }) => reject(new CliError(`the console closed: ${reason || 'no reason given'}`)));
  });
  ws.on('error', () => undefined);
  return { send, onEvent: (l) => listeners.push(l), close: () => ws.close(1000), closed };
}
