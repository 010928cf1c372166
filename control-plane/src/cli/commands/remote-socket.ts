import { StringDecoder } from 'node:string_decoder';
import WebSocket from 'ws';
import { DeviceView, decodeJson, RelayServerMessage } from '@edgehook/shared';
import { openSession, socketTls } from '../api-client.js';
import type { CliIo, CommandContext } from '../context.js';
import { CliError, notLoggedIn } from '../errors.js';
import { printable } from '../table.js';

/**
 * Opens an operator socket (`exec`, `shell`) to a device as the logged-in user. The device lookup
 * goes through the API client first, which refreshes the token pair when needed, so the token
 * read back from the store is fresh.
 */
export async function deviceSocket(ctx: CommandContext, serverFlag: string | undefined, ref: string, kind: 'exec' | 'shell'): Promise<{ ws: WebSocket; device: DeviceView }> {
  const api = await openSession(ctx, serverFlag);
  const device = await api.json(DeviceView, 'GET', `/api/devices/${encodeURIComponent(ref)}`);
  if (!device.online) throw new CliError(`device ${printable(device.name)} is offline`);
  const stored = await ctx.store.load();
  if (!stored) throw notLoggedIn(api.server);
  const url = `${api.server.replace(/^http/, 'ws')}/api/devices/${encodeURIComponent(device.id)}/${kind}`;
  const ws = new WebSocket(url, { ...(await socketTls(api.server, stored)), headers: { authorization: `Bearer ${stored.accessToken}` }, perMessageDeflate: false });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => {
        const message = /"message":"([^"]*)"/.exec(body)?.[1] ?? `HTTP ${res.statusCode}`;
        reject(new CliError(res.statusCode === 403 ? `permission denied: ${message}` : message));
      });
    });
    ws.once('error', (err) => reject(new CliError(`cannot connect to ${api.server}: ${err.message}`)));
  });
  ws.on('error', () => undefined);
  return { ws, device };
}

export function parseServerMessage(data: Buffer): RelayServerMessage | undefined {
  const decoded = decodeJson(RelayServerMessage, data);
  return decoded.ok ? decoded.value : undefined;
}

/** Writers for remote output: bytes when the process gives us byte streams, UTF-8 text otherwise. */
export function outputWriters(io: CliIo): { out: (b: Buffer) => void; err: (b: Buffer) => void } {
  const outText = new StringDecoder('utf8');
  const errText = new StringDecoder('utf8');
  return {
    out: io.stdoutBytes ?? ((b) => io.stdout(outText.write(b))),
    err: io.stderrBytes ?? ((b) => io.stderr(errText.write(b))),
  };
}

const SIGNAL_NUMBERS: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGKILL: 9, SIGTERM: 15, SIGPIPE: 13 };

/** The remote program's exit status as a shell would report it. */
export function exitStatus(result: { status: string; exitCode?: number | null | undefined; signal?: string | null | undefined }): number {
  if (typeof result.exitCode === 'number') return result.exitCode;
  if (result.signal) return 128 + (SIGNAL_NUMBERS[result.signal] ?? 0);
  return result.status === 'fulfilled' ? 0 : 1;
}
