import { TokenPair } from '@edgehook/shared';
import { credentialsFrom, fetchFor, serverOverride } from '../api-client.js';
import { readFile } from 'node:fs/promises';
import { X509Certificate } from 'node:crypto';
import { ServerFingerprint } from '@edgehook/shared/transport';
import type { StoredCredentials } from '../credentials.store.js';
import { defineCommand } from '../define-command.js';
import { CliError, UsageError } from '../errors.js';
import { apiErrorOf, expectJson, send, type RequestSpec } from '../http.client.js';
import { readOneTimeCode, readPassword } from '../password.prompt.js';

const USAGE = `Usage: edgehook login --server URL [--username NAME] [--totp CODE] [--ca FILE | --fingerprint sha256:HEX]

Logs in and keeps the session in <config dir>/credentials.json (mode 0600); the config dir is
EDGEHOOK_CONFIG_DIR, else $XDG_CONFIG_HOME/edgehook, else ~/.config/edgehook.
The password comes from EDGEHOOK_PASSWORD, else the first line of stdin; on a terminal you
are prompted for it (without echo). An account with two-factor authentication also needs the
6-digit code from the authenticator app (or a recovery code): --totp, else EDGEHOOK_TOTP, else
a prompt on a terminal.

Options:
  --server URL       the control plane, e.g. http://192.168.1.10:8080 [EDGEHOOK_SERVER]
  --username NAME    default: admin [EDGEHOOK_USERNAME]
  --totp CODE        the one-time code, when the account has two-factor authentication [EDGEHOOK_TOTP]
  --ca FILE          trust this CA (PEM) for an https:// server instead of the system CAs
  --fingerprint FP   pin a self-signed server's certificate (sha256:HEX, as \`edgehook serve\` prints)
                     Both are remembered with the login.
  -h, --help         show this help`;

/** --ca / --fingerprint, checked before any password is read or sent. */
async function loginTrust(server: string, caFile: string | undefined, fingerprint: string | undefined): Promise<StoredCredentials['tls']> {
  if (caFile === undefined && fingerprint === undefined) return undefined;
  if (!server.startsWith('https:')) throw new UsageError('--ca and --fingerprint are for an https:// server', USAGE);
  const tls: NonNullable<StoredCredentials['tls']> = {};
  if (fingerprint !== undefined) {
    const parsed = ServerFingerprint.safeParse(fingerprint);
    if (!parsed.success) throw new UsageError(`--fingerprint ${fingerprint}: ${parsed.error.issues[0]?.message ?? 'invalid'}`, USAGE);
    tls.fingerprint = parsed.data;
  }
  if (caFile !== undefined) {
    try {
      tls.ca = await readFile(caFile, 'utf8');
      new X509Certificate(tls.ca);
    } catch (err) {
      throw new CliError(`--ca ${caFile}: not a readable PEM certificate (${err instanceof Error ? err.message : String(err)})`, 2);
    }
  }
  return tls;
}

export const loginCommand = defineCommand({
  name: 'login',
  summary: 'log in to a control plane and remember the session',
  usage: USAGE,
  // Its own --server: required here, and no stored session to open.
  options: { server: { type: 'string' }, username: { type: 'string' }, totp: { type: 'string' }, ca: { type: 'string' }, fingerprint: { type: 'string' } },
  needs: 'nothing',
  check({ values, ctx }) {
    const server = serverOverride(values.server, ctx.io.env);
    if (server === undefined) throw new UsageError('--server URL is required', USAGE);
    return server;
  },
  async run({ values, checked: server, ctx }) {
    const tls = await loginTrust(server, values.ca, values.fingerprint);
    const username = values.username ?? (ctx.io.env['EDGEHOOK_USERNAME'] || 'admin');
    const password = await readPassword(ctx.io, `Password for ${username} at ${server}: `);

    const fetch = fetchFor(ctx, server, tls);
    let spec: RequestSpec = { method: 'POST', path: '/api/auth/login', body: { username, password, ...(values.totp ? { totp: values.totp } : {}) } };
    let res = await send(fetch, server, spec);
    // The password was right and the account asks for its second factor: ask, then try once more.
    if (res.status === 401 && apiErrorOf(res)?.code === 'TOTP_REQUIRED') {
      const totp = await readOneTimeCode(ctx.io, values.totp, `One-time code for ${username}: `);
      spec = { method: 'POST', path: '/api/auth/login', body: { username, password, totp } };
      res = await send(fetch, server, spec);
    }
    if (res.status === 429) throw new CliError(`login refused: ${apiErrorOf(res)?.message ?? 'too many attempts'}`);
    const refused = res.status === 401 || res.status === 403 ? apiErrorOf(res) : null;
    if (refused) throw new CliError(`login failed: ${refused.message}`);
    const pair = await expectJson(fetch, server, spec, res, TokenPair);
    await ctx.store.save(credentialsFrom(server, username, pair, ctx.now(), tls));
    ctx.io.stdout(`Logged in to ${server} as ${username}\n`);
    return 0;
  },
});
