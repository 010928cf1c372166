import { Hono } from 'hono';
import type { Kysely } from 'kysely';
import { CoreRoutes as R } from '@edgehook/shared/rest';
import type { Database } from '../db/database.js';
import type { AppEnv } from '../http/context.js';
import { routeMounter } from '../http/rest-route.js';
import { queryAudit } from './audit.repository.js';
import type { AuditWriter } from './audit-writer.js';

/** `GET /api/audit?actor=&action=&device=&result=&since=&until=&limit=&before=`: newest first, paged by `next`. */
export function auditRoutes(deps: { db: Kysely<Database>; audit?: { writer: AuditWriter } | undefined }): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  // This replica's queued rows first, so a reader sees its own actions (audit-writer.ts).
  routeMounter(app, '/api/audit', deps.db)(R.audit, async ({ query }) => {
    await deps.audit?.writer.flush();
    return queryAudit(deps.db, query);
  }, { queryLabel: 'audit query' });
  return app;
}
