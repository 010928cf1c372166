import * as z from '@edgehook/shared/zod';
import { UserView } from '@edgehook/shared';
import { withCommonHelp } from '../args.js';
import { defineCommand } from '../define-command.js';
import { json, printable } from '../table.js';

const USAGE = withCommonHelp(`Usage: edgehook whoami [--json] [--server URL]

Shows the logged-in user, role and permissions.

Options:
  --json         print the user as JSON`);

const AuthCheck = z.object({ ok: z.literal(true), user: UserView });

export const whoamiCommand = defineCommand({
  name: 'whoami',
  summary: 'show the logged-in user and permissions',
  usage: USAGE,
  options: { json: { type: 'boolean' } },
  async run({ values, ctx, api }) {
    const { user } = await api.json(AuthCheck, 'GET', '/api/auth/check');
    if (values.json) {
      ctx.io.stdout(json(user));
      return 0;
    }
    ctx.io.stdout(
      [
        `${printable(user.username)} (role ${printable(user.role.name)}) on ${api.server}`,
        `permissions: ${user.permissions.length > 0 ? user.permissions.map(printable).join(', ') : '(none)'}`,
      ].join('\n') + '\n',
    );
    return 0;
  },
});
