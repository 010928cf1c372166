import { createServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import type WebSocket from 'ws';
import { decodeJson, ForwardServerMessage, DeviceView } from '@edgehook/shared';
import { withCommonHelp } from '../args.js';
import type { ApiClient } from '../api-client.js';
import type { CommandContext } from '../context.js';
import { defineCommand } from '../define-command.js';
import { CliError, UsageError } from '../errors.js';
import { printable } from '../table.js';
import { mustBeOnline, openSocket } from './remote-socket.js';
import { ForwardTargetSpec, type ForwardTarget } from './forward-spec.js';

const USAGE = withCommonHelp(`Usage: edgehook forward <device> [LOCAL:]HOST:PORT [--bind ADDRESS] [--server URL]

Forwards a local TCP port to HOST:PORT as the device reaches it (like ssh -L): every connection to
127.0.0.1:LOCAL opens its own connection from the device, through the control plane. Without
LOCAL (or with 0) a free port is picked and printed. Ctrl-C stops.
Which destinations a device allows is the device's choice (the agent's --forward-allow; by
default only its own loopback).

  --bind ADDRESS   listen on this local address instead of 127.0.0.1

Examples:
  edgehook forward pi-01 8080:127.0.0.1:80     http://127.0.0.1:8080 is the device's port 80
  edgehook forward pi-01 2222:192.168.1.20:22  ssh -p 2222 127.0.0.1 reaches a host behind it`);

/** Frames queued toward the control plane before the local connection stops being read. */
const MAX_BUFFERED = 1024 * 1024;

function parseMessage(data: Buffer): ForwardServerMessage | undefined {
  const decoded = decodeJson(ForwardServerMessage, data);
  return decoded.ok ? decoded.value : undefined;
}

/** Opens the socket; an expired access token is refreshed once (an API call does it) and retried. */
async function connect(ctx: CommandContext, api: ApiClient, device: DeviceView, target: ForwardTarget): Promise<WebSocket> {
  const path = `/api/devices/${encodeURIComponent(device.id)}/forward?host=${encodeURIComponent(target.host)}&port=${target.port}`;
  try {
    return await openSocket(ctx, api, path, undefined, true);
  } catch (err) {
    if (!(err instanceof CliError) || !/expired|credentials/.test(err.message)) throw err;
    await api.json(DeviceView, 'GET', `/api/devices/${encodeURIComponent(device.id)}`);
    return openSocket(ctx, api, path, undefined, true);
  }
}

/** One local connection through its own socket; `fatal` is told of refusals no retry can fix. */
function bridge(local: Socket, ws: WebSocket, onError: (code: string, message: string) => void): void {
  let localEnded = false;
  ws.on('message', (data: Buffer, isBinary) => {
    if (isBinary) {
      if (!local.write(data)) {
        ws.pause();
        local.once('drain', () => ws.resume());
      }
      return;
    }
    const msg = parseMessage(data);
    if (msg?.type === 'error') onError(msg.code, msg.message);
    else if (msg?.type === 'end') {
      localEnded = true;
      if (!msg.ok && msg.reason) onError('CLOSED', msg.reason);
      local.end();
    }
  });
  local.on('data', (data: Buffer) => {
    if (ws.readyState !== ws.OPEN) return;
    ws.send(data, { binary: true }, () => {
      if (local.isPaused() && ws.bufferedAmount <= MAX_BUFFERED) local.resume();
    });
    if (ws.bufferedAmount > MAX_BUFFERED) local.pause();
  });
  local.on('end', () => {
    if (ws.readyState === ws.OPEN) ws.send(JSON.stringify({ type: 'close-input' }));
  });
  local.on('error', () => ws.close());
  local.on('close', () => {
    if (ws.readyState === ws.OPEN || ws.readyState === ws.CONNECTING) ws.close();
  });
  ws.once('close', () => {
    if (localEnded) return;
    local.end();
    local.destroySoon();
  });
  local.resume();
  // Opened paused (openSocket): frames and the close flow only now that the handlers are attached.
  ws.resume();
}

export const forwardCommand = defineCommand({
  name: 'forward',
  summary: 'forward a local TCP port to an address the device reaches (like ssh -L)',
  usage: USAGE,
  options: { bind: { type: 'string' } },
  positionals: ['device', 'target'],
  needs: 'device',
  check: ({ args }) => {
    const parsed = ForwardTargetSpec.safeParse(args.target);
    if (!parsed.success) throw new UsageError(parsed.error.issues.map((i) => i.message).join('; '), USAGE);
    return parsed.data;
  },
  async run({ values, checked: target, ctx, api, device }) {
    mustBeOnline(device);
    const name = printable(device.name);
    const sockets = new Set<WebSocket>();
    let fatal: CliError | undefined;
    let stop: () => void = () => undefined;
    const stopped = new Promise<void>((resolve) => (stop = resolve));
    const server = createServer({ noDelay: true, pauseOnConnect: true, allowHalfOpen: true }, (local) => {
      connect(ctx, api, device, target).then(
        (ws) => {
          sockets.add(ws);
          ws.once('close', () => sockets.delete(ws));
          bridge(local, ws, (code, message) => {
            ctx.io.stderr(`edgehook: ${target.host}:${target.port} via ${name}: ${message}\n`);
            // The device's allow list does not change under us: every next connection would be refused too.
            if (code === 'FORBIDDEN' || code === 'DEVICE_OFFLINE') {
              fatal = new CliError(code === 'FORBIDDEN' ? `device ${name} refuses to forward to ${target.host}:${target.port}: ${message}` : `device ${name} went offline`);
              stop();
            }
          });
        },
        (err: unknown) => {
          local.destroy();
          ctx.io.stderr(`edgehook: ${err instanceof Error ? err.message : String(err)}\n`);
        },
      );
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err: NodeJS.ErrnoException) => reject(new CliError(err.code === 'EADDRINUSE' ? `local port ${target.local} is in use; pick another or leave it out for a free one` : `cannot listen: ${err.message}`)));
      server.listen(target.local, values.bind ?? '127.0.0.1', () => resolve());
    });
    const addr = server.address();
    const bound = typeof addr === 'object' && addr !== null ? (addr satisfies AddressInfo) : undefined;
    const local = bound ? `${bound.family === 'IPv6' ? `[${bound.address}]` : bound.address}:${bound.port}` : String(addr);
    ctx.io.stdout(`forwarding ${local} -> ${target.host}:${target.port} on ${name} (Ctrl-C to stop)\n`);
    const onSignal = (): void => stop();
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    await stopped;
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    server.close();
    for (const ws of sockets) ws.close(1000);
    if (fatal) throw fatal;
    return 0;
  },
});
