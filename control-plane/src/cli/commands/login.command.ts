import { TokenPair } from '@edgehook/shared';
import { parseFlags } from '@edgehook/shared/argv';
import { credentialsFrom, serverOverride } from '../api-client.js';
import { withUsage } from '../args.js';
import type { Command } from '../context.js';
import { CliError, UsageError } from '../errors.js';
import { apiErrorOf, expectJson, send, type RequestSpec } from '../http.client.js';
import { readPassword } from '../password.prompt.js';

const USAGE = `Usage: edgehook login --server URL [--username NAME]

Logs in and keeps the session in <config dir>/credentials.json (mode 0600); the config dir is
EDGEHOOK_CONFIG_DIR, else $XDG_CONFIG_HOME/edgehook, else ~/.config/edgehook.
The password comes from EDGEHOOK_PASSWORD, else the first line of stdin; on a terminal you
are prompted for it (without echo).

Options:
  --server URL       the control plane, e.g. http://192.168.1.10:8080 [EDGEHOOK_SERVER]
  --username NAME    default: admin [EDGEHOOK_USERNAME]
  -h, --help         show this help`;

export const loginCommand: Command = {
  name: 'login',
  summary: 'log in to a control plane and remember the session',
  usage: USAGE,
  async run(argv, ctx) {
    const { values } = withUsage(USAGE, () =>
      parseFlags({ args: argv, options: { help: { type: 'boolean', short: 'h' }, server: { type: 'string' }, username: { type: 'string' } }, strict: true, allowPositionals: false }),
    );
    if (values.help) {
      ctx.io.stdout(USAGE + '\n');
      return 0;
    }
    const server = serverOverride(values.server, ctx.io.env);
    if (server === undefined) throw new UsageError('--server URL is required', USAGE);
    const username = values.username ?? (ctx.io.env['EDGEHOOK_USERNAME'] || 'admin');
    const password = await readPassword(ctx.io, `Password for ${username} at ${server}: `);

    const spec: RequestSpec = { method: 'POST', path: '/api/auth/login', body: { username, password } };
    const res = await send(ctx.fetch, server, spec);
    const refused = res.status === 401 || res.status === 403 ? apiErrorOf(res) : null;
    if (refused) throw new CliError(`login failed: ${refused.message}`);
    const pair = await expectJson(ctx.fetch, server, spec, res, TokenPair);
    await ctx.store.save(credentialsFrom(server, username, pair, ctx.now()));
    ctx.io.stdout(`Logged in to ${server} as ${username}\n`);
    return 0;
  },
};
