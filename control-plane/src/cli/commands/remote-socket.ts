import type { IncomingMessage } from 'node:http';
import { StringDecoder } from 'node:string_decoder';
import WebSocket from 'ws';
import { DeviceView, decodeJson, RelayServerMessage } from '@edgehook/shared';
import { socketTls, type ApiClient } from '../api-client.js';
import type { CliIo, CommandContext } from '../context.js';
import { CliError, notLoggedIn } from '../errors.js';
import { printable } from '../table.js';

/**
 * Opens a socket under `/api/...` as the logged-in user. Call it after an API call (the device
 * lookup, say): the client refreshes the token pair when needed, so the token read back from the
 * store is fresh. `refused` words an HTTP refusal; by default the server's own message.
 * `paused`: the socket is paused as it opens, so no frame or close can be emitted before the caller
 * has attached its handlers a few awaits later (a refusal sent right after the upgrade was lost
 * that way); the caller resumes it.
 */
export async function openSocket(ctx: CommandContext, api: ApiClient, path: string, refused?: (status: number | undefined) => string, paused = false): Promise<WebSocket> {
  const stored = await ctx.store.load();
  if (!stored) throw notLoggedIn(api.server);
  const ws = new WebSocket(`${api.server.replace(/^http/, 'ws')}${path}`, { ...(await socketTls(api.server, stored)), headers: { authorization: `Bearer ${stored.accessToken}` }, perMessageDeflate: false });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => {
      if (paused) ws.pause();
      resolve();
    });
    ws.once('unexpected-response', (_req, res) => (refused ? reject(new CliError(refused(res.statusCode))) : void refusal(res).then(reject)));
    ws.once('error', (err) => reject(new CliError(`cannot connect to ${api.server}: ${err.message}`)));
  });
  ws.on('error', () => undefined);
  return ws;
}

/** A refused upgrade as an error, with the server's own message when its body carries one. */
export function refusal(res: IncomingMessage): Promise<CliError> {
  return new Promise((resolve) => {
    let body = '';
    res.on('data', (d: Buffer) => (body += d.toString()));
    res.on('end', () => {
      const message = /"message":"([^"]*)"/.exec(body)?.[1] ?? `HTTP ${res.statusCode}`;
      resolve(new CliError(res.statusCode === 403 ? `permission denied: ${message}` : message));
    });
  });
}

/** A device that must be online for what follows, named in the error when it is not. */
export function mustBeOnline(device: DeviceView): void {
  if (!device.online) throw new CliError(`device ${printable(device.name)} is offline`);
}

export function isTty(stream: NodeJS.ReadableStream): stream is NodeJS.ReadStream {
  return 'setRawMode' in stream && typeof stream.setRawMode === 'function';
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
