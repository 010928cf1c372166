import * as z from '@edgehook/shared/zod';
import type { Context, Hono, MiddlewareHandler } from 'hono';
import type { Kysely } from 'kysely';
import type { RouteBody, RouteParams, RouteQuery, RouteResult, RouteSpec } from '@edgehook/shared/rest';
import type { Database } from '../db/database.js';
import type { AppEnv, DeviceRef } from './context.js';
import { requirePermission } from '../auth/auth.middleware.js';
import { deviceMiddleware } from '../devices/device.middleware.js';
import { jsonBody, parseValue } from './validate.js';

export interface RouteInput<S extends RouteSpec> {
  c: Context<AppEnv>;
  params: RouteParams<S>;
  query: RouteQuery<S>;
  body: RouteBody<S>;
  /** Resolved by the device middleware when the route declares `device`. */
  device: S['device'] extends 'any' | 'online' ? DeviceRef : undefined;
}

/** A handler answers its declared result (sent as JSON with the declared status) or a Response of its own. */
export type RouteHandler<S extends RouteSpec> = (input: RouteInput<S>) => Promise<RouteResult<S> | Response> | RouteResult<S> | Response;

export interface MountOptions {
  /** The handler reads the query or body itself (its own error wording, e.g. pow-1's). */
  raw?: { query?: boolean; body?: boolean };
  /** How a bad query is named in the 400 (`invalid <label>: ...`); 'query' by default. */
  queryLabel?: string;
  /** Middleware between the checks and the handler (a body limit, say). */
  before?: MiddlewareHandler<AppEnv>[];
}

/**
 * Mounts one entry of the route map on a sub-app mounted at `base`: permission, then the device
 * (`:id`, resolved once), then path parameters, query and JSON body validated by the entry's
 * schemas, then the handler with typed input. The method and path come from the map only.
 */
export function mountRoute<S extends RouteSpec>(app: Hono<AppEnv>, base: string, db: Kysely<Database>, spec: S, handler: RouteHandler<S>, opts: MountOptions = {}): void {
  if (!spec.path.startsWith(base)) throw new Error(`route ${spec.method} ${spec.path} is not under ${base}`);
  const path = spec.path.slice(base.length) || '/';
  const chain: MiddlewareHandler<AppEnv>[] = [];
  if (spec.permission !== null && spec.permission !== 'self') chain.push(requirePermission(spec.permission));
  if (spec.device) chain.push(deviceMiddleware(db, spec.device));
  const deviceParam = spec.device ? new Set(['id', 'deviceId']) : new Set<string>();
  const paramSchemas = Object.entries(spec.params ?? {}).filter(([name]) => !deviceParam.has(name));
  const final = async (c: Context<AppEnv>): Promise<Response> => {
    const params: Record<string, unknown> = {};
    for (const [name, schema] of paramSchemas) params[name] = parseValue(schema, c.req.param(name), z.globalRegistry.get(schema)?.description ?? name);
    for (const name of deviceParam) if (spec.params && name in spec.params) params[name] = c.req.param(name);
    const query = spec.query && !opts.raw?.query ? parseValue(spec.query, c.req.query(), opts.queryLabel ?? 'query') : undefined;
    const body = spec.body && (spec.bodyKind ?? 'json') === 'json' && !opts.raw?.body ? await jsonBody(c, spec.body) : undefined;
    const device = spec.device ? c.get('device') : undefined;
    // The generic input is assembled from validated parts; its type is the map entry's.
    const input = { c, params, query, body, device } as RouteInput<S>;
    const result = await handler(input);
    if (result instanceof Response) return result;
    if (spec.resultKind === 'empty') return c.body(null, (spec.status ?? 204) as 204);
    return c.json(result as object, (spec.status ?? 200) as 200);
  };
  const handlers: MiddlewareHandler<AppEnv>[] = [...chain, ...(opts.before ?? [])];
  app.on(spec.method, [path], ...handlers, final);
}

/** `mountRoute` bound to one sub-app: `const mount = routeMounter(app, '/api/devices', db)`. */
export function routeMounter(app: Hono<AppEnv>, base: string, db: Kysely<Database>) {
  return <S extends RouteSpec>(spec: S, handler: RouteHandler<S>, opts?: MountOptions): void => mountRoute(app, base, db, spec, handler, opts);
}
