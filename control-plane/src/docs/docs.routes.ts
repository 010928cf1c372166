import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Hono } from 'hono';
import type { Kysely } from 'kysely';
import { CoreRoutes, RestRoutes } from '@edgehook/shared/rest';
import type { Database } from '../db/database.js';
import type { AppEnv } from '../http/context.js';
import { routeMounter } from '../http/rest-route.js';
import { notFound } from '../http/errors.js';
import { buildOpenApi } from './openapi.js';

/** swagger-ui-dist's files, served from node_modules: the docs work offline, no CDN. */
function swaggerDir(): string {
  return dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
}

const ASSETS: Record<string, string> = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
  'swagger-ui-standalone-preset.js': 'text/javascript; charset=utf-8',
  'favicon-32x32.png': 'image/png',
  'favicon-16x16.png': 'image/png',
};

const INDEX = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Edgehook API</title>
<link rel="stylesheet" href="/docs/swagger-ui.css"><link rel="icon" type="image/png" href="/docs/favicon-32x32.png"></head>
<body><div id="swagger-ui"></div>
<script src="/docs/swagger-ui-bundle.js"></script>
<script src="/docs/swagger-ui-standalone-preset.js"></script>
<script src="/docs/init.js"></script>
</body></html>
`;
// A file, not an inline script: the console's CSP allows our own scripts only.
const INIT = `window.ui = SwaggerUIBundle({ url: '/api/openapi.json', dom_id: '#swagger-ui', presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset], layout: 'StandaloneLayout', withCredentials: true });\n`;

/** `GET /api/openapi.json` (generated from the route map) and Swagger UI at `/docs/`. */
export function docsRoutes(deps: { db: Kysely<Database>; version: string }): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const mount = routeMounter(app, '', deps.db);
  // Serialized once: the document is fixed for the process's life.
  const document = JSON.stringify(buildOpenApi(RestRoutes, { version: deps.version }));
  const dir = swaggerDir();
  mount(CoreRoutes.openapi, ({ c }) => c.body(document, 200, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-cache' }));
  mount(CoreRoutes.docs, async ({ c }) => {
    const file = c.req.path.slice('/docs/'.length);
    if (file === '' || file === 'index.html') return c.html(INDEX);
    if (file === 'init.js') return c.body(INIT, 200, { 'content-type': 'text/javascript; charset=utf-8' });
    const type = Object.hasOwn(ASSETS, file) ? ASSETS[file] : undefined;
    if (type === undefined) return notFound(c);
    return c.body(new Uint8Array(await readFile(join(dir, file))), 200, { 'content-type': type, 'cache-control': 'public, max-age=3600' });
  });
  return app;
}
