import * as z from '../zod.js';

/** How an operator action ended: done, refused (401/403/429), or failed (any other error). */
export const AuditResult = z.enum(['ok', 'denied', 'error']);
export type AuditResult = z.infer<typeof AuditResult>;

/** One operator action: who, from where, what, on which device, with what result, when. */
export const AuditEntry = z.object({
  id: z.string(),
  /** ISO-8601 UTC. */
  at: z.string(),
  /** The user's id (null: not authenticated, e.g. a failed login). */
  actorId: z.nullable(z.string()),
  /** The username at the time, or the login name tried. */
  actor: z.nullable(z.string()),
  /** The client's address. */
  source: z.nullable(z.string()),
  /** e.g. auth.login, users.delete, devices.power, shell.open (see docs/audit.md). */
  action: z.string(),
  deviceId: z.nullable(z.string()),
  /** What else was acted on: a user, role, container, path ... */
  target: z.nullable(z.string()),
  result: AuditResult,
  /** HTTP status, or the websocket close code for socket sessions. */
  status: z.nullable(z.number().check(z.int())),
  detail: z.nullable(z.string()),
  /** The control-plane replica that served the request. */
  replica: z.string(),
});
export type AuditEntry = z.infer<typeof AuditEntry>;

const Iso = z.iso.datetime({ offset: true });

/** `GET /api/audit` query: filters, newest first, `before` = the `next` cursor of the previous page. */
export const AuditQuery = z.strictObject({
    actor: z.optional(z.string().check(z.minLength(1), z.maxLength(256))),
    action: z.optional(z.string().check(z.minLength(1), z.maxLength(128))),
    device: z.optional(z.string().check(z.minLength(1), z.maxLength(128))),
    result: z.optional(AuditResult),
    since: z.optional(Iso),
    until: z.optional(Iso),
    before: z.optional(z.string().check(z.minLength(1), z.maxLength(200))),
    limit: z._default(z.coerce.number().check(z.int(), z.gte(1), z.lte(500)), 100),
  });
export type AuditQuery = z.infer<typeof AuditQuery>;

export const AuditPage = z.object({ entries: z.array(AuditEntry), next: z.nullable(z.string()) });
export type AuditPage = z.infer<typeof AuditPage>;
