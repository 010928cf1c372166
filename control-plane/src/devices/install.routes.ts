import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Hono } from 'hono';
import type { Kysely } from 'kysely';
import { EdgehookError } from '@edgehook/shared';
import { CoreRoutes } from '@edgehook/shared/rest';
import type { Database } from '../db/database.js';
import type { AppEnv } from '../http/context.js';
import { routeMounter } from '../http/rest-route.js';
import type { TlsInfo } from '../tls/tls.service.js';
import { requestOrigin } from './enrollment.routes.js';

/** agent/dist-package, made by `npm run build` (scripts/build-agent-package.mjs). */
export function defaultAgentPackageDir(): string {
  return fileURLToPath(new URL('../../../agent/dist-package', import.meta.url));
}

const DOWNLOADS = new Map([
  ['edgehook-agent.tgz', 'application/gzip'],
  ['edgehook-agent.tgz.sha256', 'text/plain; charset=utf-8'],
]);

const NOT_BUILT = 'the agent package is not built on this control plane: run npm run build (it makes agent/dist-package)';

/**
 * `GET /install.sh` (the installer with this server's URL and, when self-signed, its pins filled
 * in) and `GET /downloads/<file>` (the lean agent package). Public: they hold no secret, and a
 * device has no credentials yet.
 */
export function installRoutes(deps: { db: Kysely<Database>; packageDir: string; publicUrl: string | undefined; tls: (() => TlsInfo | undefined) | undefined }): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const mount = routeMounter(app, '', deps.db);
  mount(CoreRoutes.installScript, async ({ c }) => {
    const server = requestOrigin(c, deps.publicUrl);
    // It is pasted into a shell script: only URL characters that cannot break the quoting.
    if (!/^https?:\/\/[A-Za-z0-9.:[\]_~%/-]+$/.test(server)) throw new EdgehookError('BAD_REQUEST', 'cannot build the install script for this Host header');
    const script = await readFile(join(deps.packageDir, 'edgehook-agent/install.sh'), 'utf8').catch(() => undefined);
    if (script === undefined) return c.text(`${NOT_BUILT}\n`, 503);
    const tls = deps.tls?.();
    const pinned = tls?.selfSigned === true && server.startsWith('https:');
    const body = script
      .replace('__EDGEHOOK_SERVER__', server)
      .replace('__EDGEHOOK_FINGERPRINT__', pinned && tls ? tls.fingerprint : '')
      .replace('__EDGEHOOK_PUBKEY_PIN__', pinned && tls ? tls.publicKeyPin : '');
    return c.body(body, 200, { 'content-type': 'text/x-shellscript; charset=utf-8', 'cache-control': 'no-store' });
  });
  mount(CoreRoutes.installDownload, async ({ c, params: { file } }) => {
    const type = DOWNLOADS.get(file);
    if (!type) throw new EdgehookError('NOT_FOUND', `no download ${file}; there are ${[...DOWNLOADS.keys()].join(', ')}`);
    const body = await readFile(join(deps.packageDir, file)).catch(() => undefined);
    if (!body) return c.text(`${NOT_BUILT}\n`, 503);
    return c.body(new Uint8Array(body), 200, { 'content-type': type, 'cache-control': 'no-cache' });
  });
  return app;
}
