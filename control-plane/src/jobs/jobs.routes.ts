import { Hono } from 'hono';
import type { Kysely } from 'kysely';
import { JobRoutes as R } from '@edgehook/shared/rest';
import type { Database } from '../db/database.js';
import type { AppEnv } from '../http/context.js';
import { routeMounter } from '../http/rest-route.js';
import type { JobService } from './jobs.service.js';

/** `/api/jobs`: create, list, one with its devices, cancel (docs/jobs.md). */
export function jobsRoutes(deps: { db: Kysely<Database>; jobs: JobService }): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const mount = routeMounter(app, '/api/jobs', deps.db);
  mount(R.jobCreate, ({ c, body }) => deps.jobs.create(body, c.get('principal')));
  mount(R.jobList, ({ query }) => deps.jobs.list(query));
  mount(R.jobGet, ({ params }) => deps.jobs.detail(params.id));
  mount(R.jobCancel, ({ c, params }) => deps.jobs.cancel(params.id, c.get('principal').username));
  return app;
}
