import { decodeJson, ShellServerMessage } from '@edgehook/shared';
import { withCommonHelp } from '../args.js';
import { defineCommand } from '../define-command.js';
import { CliError } from '../errors.js';
import { printable } from '../table.js';
import { exitStatus, isTty, mustBeOnline, openSocket, outputWriters } from './remote-socket.js';

/** A text frame of the shell socket; its `opened` names the session for a reattach. */
function parseShellMessage(data: Buffer): ShellServerMessage | undefined {
  const decoded = decodeJson(ShellServerMessage, data);
  return decoded.ok ? decoded.value : undefined;
}

const USAGE = withCommonHelp(`Usage: edgehook shell <device> [--shell PATH] [--session ID] [--server URL]

An interactive terminal on a device, through the control plane (like ssh). The terminal is in raw
mode: every key goes to the remote shell, Ctrl-C included; the size follows your window.
If the connection drops, the shell stays alive on the device for a while: reattach with --session.

  --shell PATH   a shell listed in the device's /etc/shells (default: the agent's)
  --session ID   reattach to a detached session (the id is printed when a connection drops)`);

export const shellCommand = defineCommand({
  name: 'shell',
  summary: 'open an interactive terminal on a device',
  usage: USAGE,
  options: { shell: { type: 'string' }, session: { type: 'string' } },
  positionals: ['device'],
  needs: 'device',
  async run({ values, args: { device: ref }, ctx, api, device }) {
    mustBeOnline(device);
    const ws = await openSocket(ctx, api, `/api/devices/${encodeURIComponent(device.id)}/shell`);
    const write = outputWriters(ctx.io);
    const stdin = ctx.io.stdin;
    const size = (): { cols: number; rows: number } => ({ cols: process.stdout.columns || 80, rows: process.stdout.rows || 24 });
    const raw = isTty(stdin) && stdin.isTTY;
    let sessionId: string | undefined;
    let status: number | undefined;
    let failure: CliError | undefined;

    ws.on('message', (data: Buffer, isBinary) => {
      if (isBinary) return write.out(data);
      const msg = parseShellMessage(data);
      if (msg?.type === 'opened') sessionId = msg.info.sessionId;
      else if (msg?.type === 'end') status = exitStatus(msg.result);
      else if (msg?.type === 'error') failure = new CliError(msg.code === 'DEVICE_OFFLINE' ? `device ${printable(device.name)} went offline` : msg.message);
      else if (msg?.type === 'notice') ctx.io.stderr(`\r\nedgehook: ${msg.message}\r\n`);
    });
    ws.send(JSON.stringify({ type: 'open', ...size(), ...(values.shell ? { shell: values.shell } : {}), ...(values.session ? { session: values.session } : {}) }));

    // Keystrokes go out at once, one frame per read: no batching delay.
    const onKey = (chunk: Buffer | string): void => {
      if (ws.readyState === ws.OPEN) ws.send(typeof chunk === 'string' ? Buffer.from(chunk) : chunk, { binary: true });
    };
    const onResize = (): void => {
      if (ws.readyState === ws.OPEN) ws.send(JSON.stringify({ type: 'resize', ...size() }));
    };
    if (raw && isTty(stdin)) stdin.setRawMode(true);
    stdin.on('data', onKey);
    stdin.resume();
    process.on('SIGWINCH', onResize);

    await new Promise<void>((resolve) => ws.once('close', () => resolve()));
    process.off('SIGWINCH', onResize);
    stdin.off('data', onKey);
    if (raw && isTty(stdin)) stdin.setRawMode(false);
    stdin.pause();
    if (failure) throw failure;
    if (status === undefined) {
      const hint = sessionId ? `; the shell is still running: edgehook shell ${ref} --session ${sessionId}` : '';
      throw new CliError(`connection to ${printable(device.name)} closed${hint}`);
    }
    return status;
  },
});
