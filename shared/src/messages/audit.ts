import { z } from 'zod';

/** How an operator action ended: done, refused (401/403/429), or failed (any other error). */
export const AuditResult = z.enum(['ok', 'denied', 'error']);
export type AuditResult = z.infer<typeof AuditResult>;

/** One operator action: who, from where, what, on which device, with what result, when. */
export const AuditEntry = z.object({
  id: z.string(),
  /** ISO-8601 UTC. */
  at: z.string(),
  /** The user's id (null: not authenticated, e.g. a failed login). */
  actorId: z.string().nullable(),
  /** The username at the time, or the login name tried. */
  actor: z.string().nullable(),
  /** The client's address. */
  source: z.string().nullable(),
  /** e.g. auth.login, users.delete, devices.power, shell.open (see docs/audit.md). */
  action: z.string(),
  deviceId: z.string().nullable(),
  /** What else was acted on: a user, role, container, path ... */
  target: z.string().nullable(),
  result: AuditResult,
  /** HTTP status, or the websocket close code for socket sessions. */
  status: z.number().int().nullable(),
  detail: z.string().nullable(),
  /** The control-plane replica that served the request. */
  replica: z.string(),
});
export type AuditEntry = z.infer<typeof AuditEntry>;

const Iso = z.iso.datetime({ offset: true });

/** `GET /api/audit` query: filters, newest first, `before` = the `next` cursor of the previous page. */
export const AuditQuery = z
  .object({
    actor: z.string().min(1).max(256).optional(),
    action: z.string().min(1).max(128).optional(),
    device: z.string().min(1).max(128).optional(),
    result: AuditResult.optional(),
    since: Iso.optional(),
    until: Iso.optional(),
    before: z.string().min(1).max(200).optional(),
    limit: z.coerce.number().int().min(1).max(500).default(100),
  })
  .strict();
export type AuditQuery = z.infer<typeof AuditQuery>;

export const AuditPage = z.object({ entries: z.array(AuditEntry), next: z.string().nullable() });
export type AuditPage = z.infer<typeof AuditPage>;
