import { readFile } from 'node:fs/promises';
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { Kysely } from 'kysely';
import { AGENT_PACKAGE_MAX_BYTES, EdgehookError } from '@edgehook/shared';
import { AgentUpdateRoutes as R } from '@edgehook/shared/rest';
import type { Database } from '../db/database.js';
import type { AppEnv } from '../http/context.js';
import { routeMounter } from '../http/rest-route.js';
import type { PackageCatalog } from './package-catalog.js';
import type { AgentUpdateService } from './agent-updates.service.js';

export interface AgentUpdatesRoutesDeps {
  db: Kysely<Database>;
  catalog: PackageCatalog;
  updates: AgentUpdateService;
}

const packageLimit = bodyLimit({
  maxSize: AGENT_PACKAGE_MAX_BYTES,
  onError: () => {
    throw new EdgehookError('PAYLOAD_TOO_LARGE', `an agent package is at most ${AGENT_PACKAGE_MAX_BYTES} bytes`, { maxBytes: AGENT_PACKAGE_MAX_BYTES });
  },
});

/** `/api/agent/packages`: list and publish (mounted under /api, signed in). */
export function agentPackageRoutes(deps: AgentUpdatesRoutesDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const mount = routeMounter(app, '/api/agent', deps.db);
  mount(R.agentPackageList, () => deps.catalog.listView());
  mount(
    R.agentPackagePublish,
    async ({ c, params }) => {
      const bytes = Buffer.from(await c.req.arrayBuffer());
      if (bytes.length === 0) throw new EdgehookError('BAD_REQUEST', 'send the edgehook-agent.tgz as the request body');
      const { file: _file, ...view } = await deps.catalog.publish(params.version, bytes);
      return c.json(view, 201);
    },
    { before: [packageLimit] },
  );
  return app;
}

/** `POST /api/devices/:id/agent/update`: answers once the outcome is known. */
export function agentUpdateRoutes(deps: AgentUpdatesRoutesDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const mount = routeMounter(app, '/api/devices', deps.db);
  mount(R.agentUpdate, ({ device, body }) => deps.updates.update(device.id, body.version === undefined ? {} : { version: body.version }));
  return app;
}

/** `GET /downloads/agent/<version>/edgehook-agent.tgz`: public, as /downloads/ is (a package holds no secret). */
export function agentDownloadRoutes(deps: AgentUpdatesRoutesDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const mount = routeMounter(app, '/downloads', deps.db);
  mount(R.agentPackageDownload, async ({ c, params }) => {
    const pkg = await deps.catalog.get(params.version);
    // Packages are small (the built one is about 300 KB, published ones at most 64 MiB).
    const body = await readFile(pkg.file).catch(() => undefined);
    if (!body) throw new EdgehookError('NOT_FOUND', `the agent package ${params.version} is gone from this control plane's disk`);
    return c.body(new Uint8Array(body), 200, { 'content-type': 'application/gzip', 'content-length': String(pkg.size), 'x-edgehook-sha256': pkg.sha256, 'cache-control': 'no-cache' });
  });
  return app;
}
