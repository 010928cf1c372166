import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';
import * as z from '@edgehook/shared/zod';
import { ContainerInfo, ContainerLogLine, ContainerStats } from '@edgehook/shared';
import { positiveInt, withCommonHelp } from '../args.js';
import { defineCommand } from '../define-command.js';
import { UsageError } from '../errors.js';
import { streamRequest } from '../stream-request.js';
import { outputWriters } from './remote-socket.js';
import { json, printable } from '../table.js';
import { openConsole } from './console-client.js';

const USAGE = withCommonHelp(`Usage: edgehook container <device> <action> <container> [options]

Actions:
  start | stop | restart | kill    power actions (stop waits --timeout seconds, then kills)
  rm                               remove the container (--force to remove a running one)
  logs                             the last --tail lines; --follow keeps printing new output
  attach                           the console: your lines go to its input, its output to you
  stats                            memory, CPU, network, uptime and disk (Wings' keys with --json)

Options:
  --timeout N   seconds a stop or restart waits before killing (default 10)
  --signal SIG  the signal for kill (default SIGKILL)
  --force       rm: remove even if running
  --tail N      logs: how many lines (default 100)
  -f, --follow  logs: keep printing new output until Ctrl-C
  --json        print JSON (power actions, stats)`);

const OPTIONS = {
  json: { type: 'boolean' },
  timeout: { type: 'string' },
  signal: { type: 'string' },
  force: { type: 'boolean' },
  tail: { type: 'string' },
  follow: { type: 'boolean', short: 'f' },
} as const;

const ACTIONS = ['start', 'stop', 'restart', 'kill', 'rm', 'logs', 'attach', 'stats'] as const;
const isAction = (v: string): v is (typeof ACTIONS)[number] => (ACTIONS as readonly string[]).includes(v);

function mib(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

export const containerCommand = defineCommand({
  name: 'container',
  summary: 'start, stop, restart, kill, remove, logs, attach or stats of one container',
  usage: USAGE,
  options: OPTIONS,
  positionals: ['device', 'action', 'container'],
  check({ values, args: { action } }) {
    if (!isAction(action)) throw new UsageError(`unknown action ${JSON.stringify(action)}; use one of ${ACTIONS.join(', ')}`, USAGE);
    const timeoutSec = values.timeout === undefined ? undefined : positiveInt('timeout', values.timeout, USAGE, 3600);
    const tail = values.tail === undefined ? 100 : positiveInt('tail', values.tail, USAGE, 10_000);
    if (values.signal !== undefined && !/^SIG[A-Z0-9]{1,10}$/.test(values.signal)) throw new UsageError(`--signal must be a signal name like SIGTERM, got ${JSON.stringify(values.signal)}`, USAGE);
    return { action, timeoutSec, tail };
  },
  async run({ values, args: { device, container: ref }, checked: { action, timeoutSec, tail }, ctx, api }) {
    const base = `/api/devices/${encodeURIComponent(device)}/containers/${encodeURIComponent(ref)}`;

    if (action === 'rm') {
      await api.call('DELETE', `${base}${values.force ? '?force=1' : ''}`);
      ctx.io.stdout(`removed ${printable(ref)}\n`);
      return 0;
    }
    if (action === 'stats') {
      const s = await api.json(ContainerStats, 'GET', `${base}/stats`);
      if (values.json) ctx.io.stdout(json(s) + '\n');
      else ctx.io.stdout(`${printable(ref)}: ${s.state}, cpu ${s.cpu_absolute.toFixed(1)}%, memory ${mib(s.memory_bytes)} of ${s.memory_limit_bytes ? mib(s.memory_limit_bytes) : 'no limit'}, net rx ${s.network.rx_bytes} B tx ${s.network.tx_bytes} B, up ${Math.round(s.uptime / 1000)} s, disk ${mib(s.disk_bytes)}\n`);
      return 0;
    }
    if (action === 'logs') {
      if (values.follow) {
        // Streamed as the container writes it, until it stops or Ctrl-C.
        const res = await streamRequest(ctx, api, `${base}/logs?tail=${tail}&follow=1`);
        const write = outputWriters(ctx.io).out;
        if (res.body) for await (const chunk of Readable.fromWeb(res.body)) write(Buffer.from(chunk));
        return 0;
      }
      const logs = await api.json(z.object({ lines: z.array(ContainerLogLine), truncated: z.boolean() }), 'GET', `${base}/logs?tail=${tail}`);
      for (const l of logs.lines) (l.stream === 'stderr' ? ctx.io.stderr : ctx.io.stdout)(l.line + '\n');
      return 0;
    }
    if (action === 'attach') {
      const consoleClient = await openConsole(api, device, ref);
      consoleClient.onEvent((event, args) => {
        if (event === 'console output') ctx.io.stdout((args[0] ?? '') + '\n');
        else if (event === 'status') ctx.io.stderr(`[${printable(ref)} is ${args[0] ?? '?'}]\n`);
        else if (event === 'daemon error') ctx.io.stderr(`edgehook: ${args[0] ?? ''}\n`);
      });
      // Each line typed is one `send command`, as in the panel's console; EOF detaches.
      const rl = createInterface({ input: ctx.io.stdin, terminal: false });
      rl.on('line', (line) => consoleClient.send('send command', line));
      rl.once('close', () => setTimeout(() => consoleClient.close(), 200));
      await consoleClient.closed;
      rl.close();
      return 0;
    }
    const body = { action, ...(timeoutSec !== undefined ? { timeoutSec } : {}), ...(values.signal ? { signal: values.signal } : {}) };
    const info = await api.json(ContainerInfo, 'POST', `${base}/power`, { body });
    if (values.json) ctx.io.stdout(json(info) + '\n');
    else ctx.io.stdout(`${printable(info.name)}: ${info.power} (${printable(info.status)})\n`);
    return 0;
  },
});
