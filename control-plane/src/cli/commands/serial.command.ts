import { positiveInt, withCommonHelp } from '../args.js';
import { defineCommand } from '../define-command.js';
import { CliError } from '../errors.js';
import { printable } from '../table.js';
import { isTty, mustBeOnline, openSocket, outputWriters, parseServerMessage } from './remote-socket.js';

const USAGE = withCommonHelp(`Usage: edgehook serial <device> [port] [--baud N] [--server URL]

A serial console of a device's board (e.g. the host's console on a PiKVM HAT), through the
control plane. Every key goes to the line, Ctrl-C included; press Ctrl-] to quit.
[port] is a serial port name from the board profile (default: the first one).

  --baud N       line speed (default: the profile's)`);

/** Ctrl-]: telnet's escape, since Ctrl-C belongs to the remote line. */
const QUIT = 0x1d;

export const serialCommand = defineCommand({
  name: 'serial',
  summary: "open a device's serial console",
  usage: USAGE,
  options: { baud: { type: 'string' } },
  positionals: ['device', 'port?'],
  needs: 'device',
  check: ({ values }) => (values.baud === undefined ? undefined : positiveInt('baud', values.baud, USAGE, 4_000_000)),
  async run({ args: { port }, checked: baud, ctx, api, device }) {
    mustBeOnline(device);
    const refused = (status: number | undefined): string => (status === 403 ? 'permission denied: the serial console needs devices.hardware.write' : `HTTP ${status}`);
    const ws = await openSocket(ctx, api, `/api/devices/${encodeURIComponent(device.id)}/serial`, refused);

    const write = outputWriters(ctx.io);
    const stdin = ctx.io.stdin;
    const raw = isTty(stdin) && stdin.isTTY;
    let failure: CliError | undefined;
    let markOpened: () => void = () => undefined;
    const opened = new Promise<void>((resolve) => (markOpened = resolve));
    ws.on('message', (data: Buffer, isBinary) => {
      if (isBinary) return write.out(data);
      const msg = parseServerMessage(data);
      if (msg?.type === 'opened') {
        if (raw) ctx.io.stderr(`[connected to ${printable(String(msg.info['port']))} at ${String(msg.info['baud'])} baud; Ctrl-] quits]\r\n`);
        markOpened();
      } else if (msg?.type === 'error') failure = new CliError(msg.message);
      else if (msg?.type === 'notice') ctx.io.stderr(`\r\nedgehook: ${msg.message}\r\n`);
    });
    ws.send(JSON.stringify({ type: 'open', ...(port ? { port } : {}), ...(baud ? { baud } : {}) }));

    const onInput = (chunk: Buffer | string): void => {
      const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      const quit = raw ? bytes.indexOf(QUIT) : -1;
      if (ws.readyState !== ws.OPEN) return;
      if (quit >= 0) {
        if (quit > 0) ws.send(bytes.subarray(0, quit), { binary: true });
        ws.send(JSON.stringify({ type: 'close' }));
        return;
      }
      ws.send(bytes, { binary: true });
    };
    // Piped input (not a terminal): send it all, then close once the line has had time to answer.
    const onEnd = (): void => {
      setTimeout(() => {
        if (ws.readyState === ws.OPEN) ws.send(JSON.stringify({ type: 'close' }));
      }, 300);
    };
    const closed = new Promise<void>((resolve) => ws.once('close', () => resolve()));
    // Input before the port is open would be lost: start reading only then.
    await Promise.race([opened, closed]);
    if (raw && isTty(stdin)) stdin.setRawMode(true);
    stdin.on('data', onInput);
    stdin.once('end', onEnd);
    stdin.resume();
    await closed;
    stdin.off('data', onInput);
    stdin.off('end', onEnd);
    if (raw && isTty(stdin)) stdin.setRawMode(false);
    stdin.pause();
    if (failure) throw failure;
    return 0;
  },
});
