import { PingResult } from '@edgehook/shared';
import { positiveInt, withCommonHelp } from '../args.js';
import { defineCommand } from '../define-command.js';
import { ApiError, UsageError } from '../errors.js';
import { printable } from '../table.js';

const USAGE = withCommonHelp(`Usage: edgehook ping <device> [--count N] [--interval SECONDS] [--server URL]

Round trip through the control plane and MQTT to the device's agent and back.
<device> is a device id or name.

Options:
  --count N             pings to send (default 1)
  --interval SECONDS    pause between pings (default 1)`);

/** Failures of one ping that say nothing about the next one: keep going, like ping(8). */
const PER_PING_FAILURES = new Set(['DEVICE_OFFLINE', 'DEVICE_TIMEOUT']);

function intervalMs(value: string | undefined): number {
  if (value === undefined) return 1000;
  const seconds = Number(value);
  if (!/^\d+(\.\d+)?$/.test(value) || seconds > 60) throw new UsageError(`--interval must be 0 to 60 seconds, got ${JSON.stringify(value)}`, USAGE);
  return seconds * 1000;
}

export const pingCommand = defineCommand({
  name: 'ping',
  summary: 'measure the round trip to a device',
  usage: USAGE,
  options: { count: { type: 'string' }, interval: { type: 'string' } },
  positionals: ['device'],
  // Resolved first: the name for the output, and an unknown device fails before any ping.
  needs: 'device',
  check: ({ values }) => ({ count: values.count === undefined ? 1 : positiveInt('count', values.count, USAGE, 10_000), pause: intervalMs(values.interval) }),
  async run({ checked: { count, pause }, ctx, api, device }) {
    const name = printable(device.name);
    const rtts: number[] = [];
    for (let i = 0; i < count; i++) {
      if (i > 0) await ctx.sleep(pause);
      try {
        const { rttMs } = await api.json(PingResult, 'POST', `/api/devices/${encodeURIComponent(device.id)}/ping`);
        rtts.push(rttMs);
        ctx.io.stdout(`reply from ${name}: rtt=${rttMs.toFixed(2)} ms\n`);
      } catch (err) {
        if (!(err instanceof ApiError && PER_PING_FAILURES.has(err.code))) throw err;
        ctx.io.stdout(`no reply from ${name}: ${err.message}\n`);
      }
    }
    if (count > 1) {
      const lost = count - rtts.length;
      const summary = [`--- ${name}: ${count} sent, ${rtts.length} received, ${Math.round((lost / count) * 100)}% lost`];
      if (rtts.length > 0) {
        const avg = rtts.reduce((a, b) => a + b, 0) / rtts.length;
        summary.push(`rtt min/avg/max = ${Math.min(...rtts).toFixed(2)}/${avg.toFixed(2)}/${Math.max(...rtts).toFixed(2)} ms`);
      }
      ctx.io.stdout(summary.join('\n') + '\n');
    }
    return rtts.length === count ? 0 : 1;
  },
});
