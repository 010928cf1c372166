import { openSession } from '../api-client.js';
import { withCommonHelp } from '../args.js';
import { defineCommand } from '../define-command.js';
import { CliError, SessionExpiredError } from '../errors.js';

const USAGE = withCommonHelp(
  `Usage: edgehook logout [--server URL]

Ends the session on the server and deletes the stored credentials.

Options:`,
  { column: 17 },
);

export const logoutCommand = defineCommand({
  name: 'logout',
  summary: 'end the session and forget the stored credentials',
  usage: USAGE,
  options: { server: { type: 'string' } },
  // Not logged in is fine here (nothing to do): the session is opened only when there is one.
  needs: 'nothing',
  async run({ values, ctx }) {
    if (!(await ctx.store.load())) {
      ctx.io.stdout('Not logged in; nothing to do.\n');
      return 0;
    }
    const api = await openSession(ctx, values.server);
    try {
      await api.call('POST', '/api/auth/logout');
    } catch (err) {
      if (!(err instanceof SessionExpiredError)) {
        // The local copy goes either way; say that the server may still honour the session.
        await ctx.store.clear();
        const reason = err instanceof CliError ? err.message : String(err);
        throw new CliError(`removed the stored credentials, but could not end the session on the server: ${reason}`);
      }
    }
    await ctx.store.clear();
    ctx.io.stdout(`Logged out of ${api.server}\n`);
    return 0;
  },
});
