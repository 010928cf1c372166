import { Hono } from 'hono';
import type { Kysely } from 'kysely';
import { AuditQuery } from '@edgehook/shared';
import type { Database } from '../db/database.js';
import type { AppEnv } from '../http/context.js';
import { requirePermission } from '../auth/auth.middleware.js';
import { parseValue } from '../http/validate.js';
import { queryAudit } from './audit.repository.js';

/** `GET /api/audit?actor=&action=&device=&result=&since=&until=&limit=&before=`: newest first, paged by `next`. */
export function auditRoutes(deps: { db: Kysely<Database> }): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.get('/', requirePermission('audit.read'), async (c) => {
    const q = parseValue(AuditQuery, c.req.query(), 'audit query');
    return c.json(await queryAudit(deps.db, q));
  });
  return app;
}
