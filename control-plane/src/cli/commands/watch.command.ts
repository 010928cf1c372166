import WebSocket from 'ws';
import { decodeJson, LiveFrame } from '@edgehook/shared';
import { socketTls } from '../api-client.js';
import { positiveInt, withCommonHelp } from '../args.js';
import { defineCommand } from '../define-command.js';
import { CliError, notLoggedIn } from '../errors.js';
import { printable } from '../table.js';
import { formatValue, labelText } from './telemetry-format.js';
import { refusal } from './remote-socket.js';

const USAGE = withCommonHelp(`Usage: edgehook watch <device> [--metric cpu.usage,mem.*] [--count N] [--json] [--server URL]

Follows a device's telemetry live: one block per batch as it arrives. Ctrl-C stops.

Options:
  --metric LIST    metrics to show, comma-separated; a trailing * matches a prefix
                   (default cpu.usage,mem.usage,load.1,temp.max,net.*)
  --count N        stop after N batches
  --json           one JSON frame per line`);

const DEFAULT_METRICS = 'cpu.usage,mem.usage,load.1,temp.max,net.rx_bps,net.tx_bps,trace.*';

export const watchCommand = defineCommand({
  name: 'watch',
  summary: "follow a device's telemetry live",
  usage: USAGE,
  options: { metric: { type: 'string' }, count: { type: 'string' }, json: { type: 'boolean' } },
  positionals: ['device'],
  // The lookup (an API call) also refreshes the token pair when needed, so the stored token is fresh for the socket.
  needs: 'device',
  check: ({ values }) => (values.count === undefined ? Infinity : positiveInt('count', values.count, USAGE)),
  async run({ values, checked: count, ctx, api, device }) {
    const stored = await ctx.store.load();
    if (!stored) throw notLoggedIn(api.server);
    const search = new URLSearchParams({ device: device.id, metric: values.metric ?? DEFAULT_METRICS });
    const ws = new WebSocket(`${api.server.replace(/^http/, 'ws')}/api/telemetry/live?${search.toString()}`, { ...(await socketTls(api.server, stored)), headers: { authorization: `Bearer ${stored.accessToken}` }, perMessageDeflate: false });
    if (!values.json) ctx.io.stdout(`watching ${printable(device.name)}${device.online ? '' : ' (offline: waiting for data)'}; Ctrl-C stops\n`);
    return new Promise<number>((resolve, reject) => {
      let seen = 0;
      ws.on('unexpected-response', (_req, res) => void refusal(res).then(reject));
      ws.on('error', (err) => reject(new CliError(`cannot connect to ${api.server}: ${err.message}`)));
      ws.on('close', (code, reason) => (code === 1000 || code === 1005 ? resolve(0) : reject(new CliError(`the live stream closed: ${reason.toString() || code}`))));
      ws.on('message', (data: Buffer) => {
        const frame = decodeJson(LiveFrame, data);
        if (!frame.ok) return;
        const f = frame.value;
        if (values.json) {
          if (f.type !== 'hello') ctx.io.stdout(JSON.stringify(f) + '\n');
        } else if (f.type === 'dropped') {
          ctx.io.stdout(`(${f.count} batches skipped: the terminal is too slow)\n`);
        } else if (f.type === 'samples') {
          const time = new Date(f.ts).toISOString().slice(11, 19);
          const parts = f.samples.map((s) => `${s.m}${s.l ? `{${labelText(s.l)}}` : ''}=${formatValue(s.m, s.v)}`);
          ctx.io.stdout(`${time}${f.replay ? ' (replayed)' : ''}  ${printable(parts.join('  '))}\n`);
        }
        if (f.type === 'samples' && ++seen >= count) ws.close(1000);
      });
    });
  },
});
