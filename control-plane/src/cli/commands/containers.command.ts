import * as z from '@edgehook/shared/zod';
import { ContainerInfo } from '@edgehook/shared';
import { withCommonHelp } from '../args.js';
import { defineCommand } from '../define-command.js';
import { listing, printable, relativeTime } from '../table.js';

const USAGE = withCommonHelp(`Usage: edgehook containers <device> [--json] [--server URL]

The containers on a device (running and stopped), with their power state and ports.
Servers Edgehook declared are marked with their server name.

  --json        print JSON`);

export const containersCommand = defineCommand({
  name: 'containers',
  summary: 'list the containers on a device',
  usage: USAGE,
  options: { json: { type: 'boolean' } },
  positionals: ['device'],
  needs: 'device',
  async run({ values, ctx, api, device }) {
    const list = await api.json(z.array(ContainerInfo), 'GET', `/api/devices/${encodeURIComponent(device.id)}/containers`);
    const row = (c: ContainerInfo): string[] => [
      printable(c.name),
      c.id.slice(0, 12),
      printable(c.image),
      c.power,
      printable(c.status),
      c.ports.map((p) => (p.host ? `${p.host}->${p.container}/${p.protocol}` : `${p.container}/${p.protocol}`)).join(',') || '-',
      c.server ? (c.declared ? `declared:${printable(c.server)}` : 'edgehook') : '-',
      relativeTime(new Date(c.createdAt).toISOString(), ctx.now()),
    ];
    ctx.io.stdout(listing(list, { json: values.json, empty: `no containers on ${printable(device.name)}`, headers: ['NAME', 'ID', 'IMAGE', 'POWER', 'STATUS', 'PORTS', 'OWNER', 'CREATED'], row }));
    return 0;
  },
});
