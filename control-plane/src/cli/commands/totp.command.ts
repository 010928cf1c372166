import * as z from '@edgehook/shared/zod';
import { TotpActivated, TotpEnrollment } from '@edgehook/shared';
import { withCommonHelp } from '../args.js';
import { defineCommand } from '../define-command.js';
import { UsageError } from '../errors.js';

const USAGE = withCommonHelp(
  `Usage: edgehook totp enroll|verify CODE|disable CODE [--server URL]

Two-factor authentication for the logged-in user (TOTP, as authenticator apps use).
  enroll        prints a new key and its otpauth:// URI: add it to your authenticator app
  verify CODE   turns two-factor on with the app's current code; prints ten recovery codes once
  disable CODE  turns it off (a current code or a recovery code)
Afterwards \`edgehook login\` asks for the code (or takes --totp / EDGEHOOK_TOTP).

Options:`,
  { column: 17 },
);

const Ok = z.object({ ok: z.literal(true) });

export const totpCommand = defineCommand({
  name: 'totp',
  summary: 'enroll, verify or disable two-factor authentication',
  usage: USAGE,
  positionals: ['action?', 'code...'],
  check({ args: { action, code: [code] } }) {
    if (action !== 'enroll' && action !== 'verify' && action !== 'disable') throw new UsageError('give enroll, verify CODE or disable CODE', USAGE);
    if (action !== 'enroll' && !code) throw new UsageError(`${action} needs the code from your authenticator app`, USAGE);
    return { action, code };
  },
  async run({ checked: { action, code }, ctx, api }) {
    if (action === 'enroll') {
      const e = await api.json(TotpEnrollment, 'POST', '/api/auth/totp/enroll');
      ctx.io.stdout(`key: ${e.secret}\nuri: ${e.uri}\nAdd it to your authenticator app, then run: edgehook totp verify <code>\n`);
    } else if (action === 'verify') {
      const r = await api.json(TotpActivated, 'POST', '/api/auth/totp/verify', { body: { code } });
      ctx.io.stdout(`Two-factor authentication is on. Recovery codes (each works once; keep them safe, they are not shown again):\n${r.recoveryCodes.join('\n')}\n`);
    } else {
      await api.json(Ok, 'DELETE', '/api/auth/totp', { body: { code } });
      ctx.io.stdout('Two-factor authentication is off.\n');
    }
    return 0;
  },
});
