import { randomBytes } from 'node:crypto';
import { IncomingMessage } from 'node:http';
import type { Context } from 'hono';
import type * as z from '@edgehook/shared/zod';
import { EdgehookError, validate, type EncedeusRole, type EncedeusUser, type Logger, type RoleView } from '@edgehook/shared';
import type { Hono } from 'hono';
import type { Kysely } from 'kysely';
import type { RouteSpec } from '@edgehook/shared/rest';
import type { UserWithRole } from '../auth/users.repository.js';
import type { Database } from '../db/database.js';
import type { AppEnv } from '../http/context.js';
import { mountRoute, type MountOptions, type RouteHandler } from '../http/rest-route.js';

/**
 * `routeMounter` for an Encedeus family: method, path and permission from the map; bodies and
 * queries are read by the handlers (Encedeus sends bodies on GET and DELETE, and its own wording).
 */
export function encedeusMounter(app: Hono<AppEnv>, base: string, db: Kysely<Database>) {
  return <S extends RouteSpec>(spec: S, handler: RouteHandler<S>, opts: MountOptions = {}): void =>
    mountRoute(app, base, db, spec, handler, { ...opts, raw: { body: true, query: true } });
}

/**
 * Encedeus answers every error as `{message}`, and 401 both for a missing/invalid token and for a
 * missing permission (its controllers return StatusUnauthorized on a failed permission check).
 */
const STATUS: Partial<Record<string, 400 | 404 | 409 | 500 | 503 | 504>> = { BAD_REQUEST: 400, NOT_FOUND: 404, CONFLICT: 409, DEVICE_OFFLINE: 503, DEVICE_TIMEOUT: 504 };
const REFUSALS = new Set(['UNAUTHENTICATED', 'INVALID_CREDENTIALS', 'FORBIDDEN']);

/**
 * `refusal` is the status for a missing/invalid token or permission. Encedeus's server says 401;
 * js-api's user calls only recognise 403 as a refusal (a 401 there reads as success), its role
 * calls only 401 - so /user answers 403 and /role and /auth 401 (docs/encedeus.md).
 */
export function encedeusErrorHandler(log: Logger, refusal: 401 | 403) {
  return function onError(err: Error, c: Context): Response {
    if (err instanceof EdgehookError) return c.json({ message: err.message }, REFUSALS.has(err.code) ? refusal : STATUS[err.code] ?? 500);
    log.error('unhandled error in an Encedeus request', { method: c.req.method, path: c.req.path, err: err.stack ?? err.message });
    return c.json({ message: 'internal server error' }, 500);
  };
}

/** JSON bodies as Go's echo Bind reads them: unknown fields ignored, an empty body is `{}`. */
export async function encedeusBody<S extends z.ZodMiniType>(c: Context, schema: S): Promise<z.output<S>> {
  const text = c.req.method === 'GET' ? await getBody(c) : await c.req.text();
  if (text.length > MAX_BODY) throw new EdgehookError('BAD_REQUEST', 'bad request: the body is too large');
  let raw: unknown = {};
  if (text.trim() !== '') {
    try {
      raw = JSON.parse(text);
    } catch {
      throw new EdgehookError('BAD_REQUEST', 'bad request: the body is not valid JSON');
    }
  }
  const result = validate(schema, raw);
  if (!result.ok) throw new EdgehookError('BAD_REQUEST', `bad request: ${result.error}`);
  return result.value;
}

const MAX_BODY = 64 * 1024;

/**
 * The seed's GET /role carries `{id}` as a body. A fetch Request cannot hold a GET body, so it is
 * read from the Node request the server adapter passes as env (bounded; none in in-memory tests).
 */
async function getBody(c: Context): Promise<string> {
  const env: unknown = c.env;
  const incoming = typeof env === 'object' && env !== null && 'incoming' in env ? env.incoming : undefined;
  if (!(incoming instanceof IncomingMessage) || incoming.readableEnded) return '';
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of incoming) {
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    size += buf.length;
    if (size > MAX_BODY) throw new EdgehookError('BAD_REQUEST', 'bad request: the body is too large');
    chunks.push(buf);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** ts-proto objects carry every field, unset ones as "" (or null): those mean "not given". */
export function given(value: string | null | undefined): string | undefined {
  return value === null || value === undefined || value.trim() === '' ? undefined : value;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Path ids are UUIDs (400 otherwise, as Encedeus). js-api's deleteRole sends `/role/:<id>`, colon kept. */
export function pathUuid(raw: string): string {
  const id = raw.startsWith(':') ? raw.slice(1) : raw;
  if (!UUID.test(id)) throw new EdgehookError('BAD_REQUEST', 'bad request: the id is not a UUID');
  return id.toLowerCase();
}

/** User and role as protojson renders them: ids as `{value}`, empty fields left out. */
export function encedeusUser(u: UserWithRole): EncedeusUser {
  return { id: { value: u.id }, createdAt: u.createdAt, ...(u.email ? { email: u.email } : {}), name: u.username, roleId: { value: u.roleId } };
}

export function encedeusRole(r: RoleView): EncedeusRole {
  return { id: { value: r.id }, name: r.name, permissions: r.permissions };
}

/**
 * Encedeus's panel decodes its access token as a JWT (exp, user_id.value) without verifying it.
 * Ours has that shape, but the "signature" is 256 random bits and the server never reads the
 * payload: the token is looked up by its hash like every other access token.
 */
export function mintEncedeusAccessToken(userId: string, expiresAt: number): string {
  const part = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
  return `${part({ alg: 'HS256', typ: 'JWT' })}.${part({ exp: Math.floor(expiresAt / 1000), user_id: { value: userId } })}.${randomBytes(32).toString('base64url')}`;
}
