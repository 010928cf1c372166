import { withCommonHelp } from '../args.js';
import { defineCommand } from '../define-command.js';
import { CliError, UsageError } from '../errors.js';
import { exitStatus, mustBeOnline, openSocket, outputWriters, parseServerMessage } from './remote-socket.js';

const USAGE = withCommonHelp(`Usage: edgehook exec <device> <action> [params...] [--server URL]
       edgehook exec <device> --raw [--server URL] -- <command> [args...]

Runs a process on a device through the control plane. Standard input is piped to it (end it with
Ctrl-D or EOF), its output and errors are streamed back, and the exit code is the remote one.
Ctrl-C cancels the remote process (its whole process tree).

  <action>     a server-defined action declared in the agent's actions file (devices.exec)
  --raw        run an arbitrary argv, never through a shell (needs devices.exec.arbitrary)
  --no-stdin   do not read standard input (the remote side sees EOF at once)`);

export const execCommand = defineCommand({
  name: 'exec',
  summary: 'run a process on a device (an action, or --raw argv)',
  usage: USAGE,
  options: { raw: { type: 'boolean' }, 'no-stdin': { type: 'boolean' } },
  positionals: ['device', 'argv...'],
  // The lookup also refreshes the token pair the socket is opened with.
  needs: 'device',
  check({ values, args: { argv } }) {
    if (argv.length === 0) throw new UsageError(values.raw ? 'missing <command> after --' : 'missing <action>', USAGE);
    const [first = '', ...params] = argv;
    return values.raw ? { type: 'open', argv } : { type: 'open', call: first, params };
  },
  async run({ values, checked: open, ctx, api, device }) {
    mustBeOnline(device);
    const ws = await openSocket(ctx, api, `/api/devices/${encodeURIComponent(device.id)}/exec`);
    const write = outputWriters(ctx.io);
    const stdin = ctx.io.stdin;
    let result: number | undefined;
    let failure: CliError | undefined;
    let interrupts = 0;
    const onSigint = (): void => {
      interrupts++;
      if (interrupts === 1) ws.send(JSON.stringify({ type: 'cancel' }));
      else ws.terminate();
    };
    process.on('SIGINT', onSigint);

    ws.on('message', (data: Buffer, isBinary) => {
      if (isBinary) {
        const body = data.subarray(1);
        if (data[0] === 2) write.err(body);
        else write.out(body);
        return;
      }
      const msg = parseServerMessage(data);
      if (msg?.type === 'end') {
        result = exitStatus(msg.result);
        if (msg.result.status === 'rejected' && msg.result.exitCode == null) ctx.io.stderr(`edgehook: ${msg.result.reason}\n`);
      } else if (msg?.type === 'error') failure = new CliError(msg.code === 'FORBIDDEN' ? `permission denied: ${msg.message}` : msg.message);
      else if (msg?.type === 'notice') ctx.io.stderr(`edgehook: ${msg.message}\n`);
    });
    ws.send(JSON.stringify(open));

    // Standard input, with backpressure: stop reading while the socket has much unsent.
    const pump = (chunk: Buffer | string): void => {
      if (ws.readyState !== ws.OPEN) return;
      ws.send(typeof chunk === 'string' ? Buffer.from(chunk) : chunk, { binary: true });
      if (ws.bufferedAmount > 1024 * 1024) {
        stdin.pause();
        const wait = setInterval(() => {
          if (ws.bufferedAmount > 256 * 1024 && ws.readyState === ws.OPEN) return;
          clearInterval(wait);
          stdin.resume();
        }, 5);
      }
    };
    const endInput = (): void => {
      if (ws.readyState === ws.OPEN) ws.send(JSON.stringify({ type: 'close-input' }));
    };
    if (values['no-stdin']) endInput();
    else {
      stdin.on('data', pump);
      stdin.once('end', endInput);
    }
    await new Promise<void>((resolve) => ws.once('close', () => resolve()));
    process.off('SIGINT', onSigint);
    stdin.off('data', pump);
    stdin.off('end', endInput);
    stdin.pause();
    if (failure) throw failure;
    if (result === undefined) throw new CliError('the connection closed before the process ended');
    return result;
  },
});
