import * as z from '@edgehook/shared/zod';
import type { Kysely } from 'kysely';
import { AuditResult, type AuditEntry, type AuditPage, type AuditQuery } from '@edgehook/shared';
import type { Database } from '../db/database.js';
import { isoTime, newId } from '../db/ids.js';

export type NewAuditEntry = Omit<AuditEntry, 'id' | 'at'>;

const MAX_TEXT = 1024;
const clip = (v: string | null): string | null => (v === null ? null : v.length > MAX_TEXT ? v.slice(0, MAX_TEXT) : v);

function auditRow(e: NewAuditEntry, now: number) {
  return {
    id: newId(),
    at: isoTime(now),
    actor_id: e.actorId,
    actor: clip(e.actor),
    source: clip(e.source),
    action: e.action.slice(0, 128),
    device_id: clip(e.deviceId),
    target: clip(e.target),
    result: e.result,
    status: e.status,
    detail: clip(e.detail),
    replica: e.replica.slice(0, 128),
  };
}

/** Several entries in one statement (the audit writer's queue), each with its own time. */
export async function insertAuditBatch(db: Kysely<Database>, entries: ReadonlyArray<{ entry: NewAuditEntry; at: number }>): Promise<void> {
  if (entries.length === 0) return;
  await db
    .insertInto('audit_log')
    .values(entries.map((r) => auditRow(r.entry, r.at)))
    .execute();
}

/** The cursor is the last entry's `at|id`: pages never skip or repeat an entry, even with equal times. */
function parseCursor(before: string | undefined): { at: string; id: string } | undefined {
  if (!before) return undefined;
  const i = before.lastIndexOf('|');
  return i > 0 ? { at: before.slice(0, i), id: before.slice(i + 1) } : undefined;
}

/** Newest first, filtered; `next` continues after the last entry returned. */
export async function queryAudit(db: Kysely<Database>, q: AuditQuery): Promise<AuditPage> {
  let sel = db.selectFrom('audit_log').selectAll();
  if (q.actor) sel = sel.where('actor', '=', q.actor);
  if (q.action) sel = q.action.endsWith('.*') ? sel.where('action', 'like', `${q.action.slice(0, -1)}%`) : sel.where('action', '=', q.action);
  if (q.device) sel = sel.where('device_id', '=', q.device);
  if (q.result) sel = sel.where('result', '=', q.result);
  if (q.since) sel = sel.where('at', '>=', new Date(q.since).toISOString());
  if (q.until) sel = sel.where('at', '<', new Date(q.until).toISOString());
  const cursor = parseCursor(q.before);
  if (cursor) sel = sel.where((eb) => eb.or([eb('at', '<', cursor.at), eb.and([eb('at', '=', cursor.at), eb('id', '<', cursor.id)])]));
  const rows = await sel.orderBy('at', 'desc').orderBy('id', 'desc').limit(q.limit + 1).execute();
  const page = rows.slice(0, q.limit);
  const entries: AuditEntry[] = page.map((r) => ({
    id: r.id,
    at: r.at,
    actorId: r.actor_id,
    actor: r.actor,
    source: r.source,
    action: r.action,
    deviceId: r.device_id,
    target: r.target,
    result: z.catch(AuditResult, 'error').parse(r.result),
    status: r.status === null ? null : Number(r.status),
    detail: r.detail,
    replica: r.replica,
  }));
  const last = entries.at(-1);
  return { entries, next: rows.length > q.limit && last ? `${last.at}|${last.id}` : null };
}

/** Retention: deletes entries older than `olderThanMs` before `now`; returns how many. */
export async function pruneAudit(db: Kysely<Database>, now: number, olderThanMs: number): Promise<number> {
  const r = await db.deleteFrom('audit_log').where('at', '<', isoTime(now - olderThanMs)).executeTakeFirst();
  return Number(r.numDeletedRows);
}
