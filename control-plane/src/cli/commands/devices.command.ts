import { parseFlags } from '@edgehook/shared/argv';
import { z } from 'zod';
import { DeviceView } from '@edgehook/shared';
import { openSession } from '../api-client.js';
import { booleanWord, COMMON_OPTIONS, withUsage } from '../args.js';
import type { Command } from '../context.js';
import { json, list, relativeTime, renderTable } from '../table.js';

const USAGE = `Usage: edgehook devices [--tag T] [--online true|false] [--json] [--server URL]

Lists the enrolled devices.

Options:
  --tag T                only devices with this tag
  --online true|false    only devices that are (not) connected
  --json                 print the devices as a JSON array
  --server URL           the control plane (default: the one you logged in to) [EDGEHOOK_SERVER]
  -h, --help             show this help`;

export function devicesTable(devices: DeviceView[], now: number): string {
  return renderTable(
    ['NAME', 'ID', 'STATUS', 'LAST SEEN', 'PROFILE', 'AGENT', 'TAGS'],
    devices.map((d) => [d.name, d.id, d.online ? 'online' : 'offline', d.online ? 'now' : relativeTime(d.lastSeen, now), d.profile, d.agentVersion, list(d.tags)]),
  );
}

export const devicesCommand: Command = {
  name: 'devices',
  summary: 'list devices',
  usage: USAGE,
  async run(argv, ctx) {
    const { values } = withUsage(USAGE, () =>
      parseFlags({
        args: argv,
        options: { ...COMMON_OPTIONS, json: { type: 'boolean' }, tag: { type: 'string' }, online: { type: 'string' } },
        strict: true,
        allowPositionals: false,
      }),
    );
    if (values.help) {
      ctx.io.stdout(USAGE + '\n');
      return 0;
    }
    // Checked here so a typo is a usage error, not a round trip.
    const online = values.online === undefined ? undefined : String(booleanWord('online', values.online, USAGE));
    const api = await openSession(ctx, values.server);
    const devices = await api.json(z.array(DeviceView), 'GET', '/api/devices', { query: { tag: values.tag, online } });
    if (values.json) {
      ctx.io.stdout(json(devices));
    } else if (devices.length === 0) {
      const filtered = values.tag !== undefined || online !== undefined;
      ctx.io.stdout(filtered ? 'No devices match.\n' : 'No devices yet. Create an enrollment token with: edgehook enroll-token create\n');
    } else {
      ctx.io.stdout(devicesTable(devices, ctx.now()) + '\n');
    }
    return 0;
  },
};
