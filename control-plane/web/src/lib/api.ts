import type * as z from '@edgehook/shared/zod';
import type { RestRoute, RestRouteName, RouteBodyInput, RoutePathArgs, RouteResult, RouteSpec } from '@edgehook/shared/rest';

/**
 * The console's only door to the control plane: the public REST API with the cookie session.
 * A 401 (or a rejected access token) triggers one refresh (`POST /api/auth/refresh`, refresh cookie)
 * and one retry; only if that fails does the app go to the login page, keeping the current route.
 */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

let onSessionLost: () => void = () => undefined;
export function setSessionLostHandler(fn: () => void): void {
  onSessionLost = fn;
}

let refreshing: Promise<boolean> | undefined;
/**
 * One refresh at a time: parallel 401s share it (a reused refresh token would revoke the session),
 * and 401s of requests that were in flight during it reuse its outcome for a moment. A failed
 * refresh is double-checked: another tab may have rotated the pair first, leaving us fresh cookies.
 */
export function refreshSession(): Promise<boolean> {
  if (refreshing) return refreshing;
  const p = fetch('/api/auth/refresh', { method: 'POST', credentials: 'same-origin' })
    .then(async (r) => r.ok || (await fetch('/api/auth/check', { credentials: 'same-origin' })).ok)
    .catch(() => false);
  refreshing = p;
  void p.then((ok) => setTimeout(() => (refreshing = undefined), ok ? 2000 : 0));
  return p;
}

function isAuthFailure(status: number, code: string | undefined): boolean {
  return status === 401 || (status === 403 && code === 'INVALID_CREDENTIALS');
}

async function errorOf(res: Response): Promise<ApiError> {
  const text = await res.text().catch(() => '');
  try {
    const body: unknown = JSON.parse(text);
    if (body && typeof body === 'object' && 'error' in body) {
      const e: unknown = body.error;
      if (e && typeof e === 'object') {
        const code = 'code' in e && typeof e.code === 'string' ? e.code : 'ERROR';
        const message = 'message' in e && typeof e.message === 'string' ? e.message : res.statusText;
        return new ApiError(res.status, code, message);
      }
    }
  } catch {
    // not JSON: fall through
  }
  return new ApiError(res.status, 'HTTP_' + res.status, text.slice(0, 300) || `${res.status} ${res.statusText}`);
}

async function peekCode(res: Response): Promise<string | undefined> {
  try {
    const body: unknown = await res.clone().json();
    if (body && typeof body === 'object' && 'error' in body) {
      const e: unknown = body.error;
      return e && typeof e === 'object' && 'code' in e && typeof e.code === 'string' ? e.code : undefined;
    }
  } catch {
    return undefined;
  }
  return undefined;
}

export interface RequestOptions {
  /** Do not refresh or redirect on 401 (the login form itself). */
  noSession?: boolean;
  signal?: AbortSignal;
  body?: BodyInit;
  headers?: Record<string, string>;
}

export async function request(method: string, path: string, json?: unknown, opts: RequestOptions = {}): Promise<Response> {
  const init: RequestInit = { method, credentials: 'same-origin', headers: { ...opts.headers } };
  if (opts.signal) init.signal = opts.signal;
  if (json !== undefined) {
    init.body = JSON.stringify(json);
    init.headers = { ...init.headers, 'content-type': 'application/json' };
  } else if (opts.body !== undefined) init.body = opts.body;
  let res: Response;
  try {
    res = await fetch(path, init);
  } catch (err) {
    if (err instanceof DOMException && err.name === 'AbortError') throw err;
    throw new ApiError(0, 'NETWORK', 'the control plane is unreachable; check your connection');
  }
  if (!opts.noSession && isAuthFailure(res.status, await peekCode(res))) {
    if (await refreshSession()) res = await fetch(path, init);
    if (isAuthFailure(res.status, await peekCode(res))) {
      onSessionLost();
      throw new ApiError(401, 'UNAUTHENTICATED', 'your session has ended; log in again');
    }
  }
  if (!res.ok) throw await errorOf(res);
  return res;
}

type Schemas = typeof import('./schemas.js');
let schemas: Promise<Schemas> | undefined;
/** The shared schemas (their own chunk, see schemas.ts); loading starts when this module runs. */
export function loadSchemas(): Promise<Schemas> {
  return (schemas ??= import('./schemas.js'));
}
void loadSchemas().catch(() => (schemas = undefined));

type QueryValue = string | number | boolean | undefined;
/** Query parameters by the entry's declared names; values travel as strings and the server validates. */
type RouteQueryArgs<S extends RouteSpec> = S['query'] extends z.ZodMiniType ? { [K in keyof z.input<S['query']>]?: QueryValue } : never;

/** What a call of a REST map entry sends, typed by the entry. */
export interface RouteCall<S extends RouteSpec> {
  params?: RoutePathArgs<S>;
  query?: RouteQueryArgs<S>;
  body?: RouteBodyInput<S>;
  signal?: AbortSignal;
  /** Do not refresh or redirect on 401 (the login form itself). */
  noSession?: boolean;
}
/** Path parameters are required exactly when the entry's path has some. */
type RouteArgs<S extends RouteSpec> = keyof RoutePathArgs<S> extends never ? [call?: RouteCall<S>] : [call: RouteCall<S> & { params: RoutePathArgs<S> }];

function parseResult<T extends z.ZodMiniType>(schema: T, value: unknown, what: string): z.output<T> {
  const r = schema.safeParse(value);
  if (!r.success) throw new ApiError(0, 'BAD_RESPONSE', `unexpected answer from ${what}: ${r.error.issues[0]?.message ?? 'invalid'}`);
  return r.data;
}

/**
 * Calls one entry of the REST map (shared/src/rest/) by name: method and path from the map, the
 * answer validated with the entry's result schema, so request and result types follow the map.
 */
export async function apiRoute<N extends RestRouteName>(name: N, ...[call]: RouteArgs<RestRoute<N>>): Promise<RouteResult<RestRoute<N>>> {
  const { RestRoutes, pathFor } = await loadSchemas();
  const spec: RestRoute<N> = RestRoutes[name];
  return callRoute(spec, pathFor<RouteSpec>(spec, call?.params ?? {}), call);
}

async function callRoute<S extends RouteSpec>(spec: S, path: string, call: RouteCall<S> | undefined): Promise<RouteResult<S>> {
  const query = new URLSearchParams();
  for (const [k, v] of Object.entries(call?.query ?? {})) if (v !== undefined) query.set(k, String(v));
  const url = query.size ? `${path}?${query.toString()}` : path;
  const opts: RequestOptions = { ...(call?.signal ? { signal: call.signal } : {}), ...(call?.noSession ? { noSession: true } : {}) };
  const res = await request(spec.method, url, call?.body, opts);
  const schema: S['result'] = spec.result;
  const what = `${spec.method} ${spec.path}`;
  if (spec.resultKind === 'empty') return parseResult(schema, null, what);
  if (spec.resultKind === 'text') return parseResult(schema, await res.text(), what);
  let body: unknown;
  try {
    body = await res.json();
  } catch {
    throw new ApiError(0, 'BAD_RESPONSE', `unexpected answer from ${what}: not JSON`);
  }
  return parseResult(schema, body, what);
}

/** A readable message for anything thrown. */
export function messageOf(err: unknown): string {
  if (err instanceof ApiError) return err.message;
  if (err instanceof Error) return err.message;
  return String(err);
}

export function wsUrl(path: string): string {
  const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${proto}//${location.host}${path}`;
}

/**
 * Opens a websocket with the session cookie. An upgrade refused before opening (expired access
 * token) gets one refresh and one retry; the browser hides the status, so any early failure counts.
 */
export function openSocket(path: string, protocols?: string[]): Promise<WebSocket> {
  const attempt = () =>
    new Promise<WebSocket>((resolve, reject) => {
      const ws = new WebSocket(wsUrl(path), protocols);
      ws.binaryType = 'arraybuffer';
      const fail = () => reject(new ApiError(0, 'SOCKET', `could not open ${path.split('?')[0]}`));
      ws.addEventListener('open', () => {
        ws.removeEventListener('error', fail);
        resolve(ws);
      }, { once: true });
      ws.addEventListener('error', fail, { once: true });
    });
  return attempt().catch(async (err: unknown) => {
    // Find out why: a session problem is refreshed (or ends on the login page), anything else shows.
    const check = await fetch('/api/auth/check', { credentials: 'same-origin' }).catch(() => undefined);
    if (check && isAuthFailure(check.status, await peekCode(check))) {
      if (!(await refreshSession())) {
        onSessionLost();
        throw new ApiError(401, 'UNAUTHENTICATED', 'your session has ended; log in again');
      }
      return attempt();
    }
    throw err;
  });
}

/** A socket frame checked with its shared schema (from `loadSchemas()`); undefined when it does not fit. */
export function parseFrame<T extends z.ZodMiniType>(schema: T, data: unknown): z.output<T> | undefined {
  if (typeof data !== 'string') return undefined;
  let v: unknown;
  try {
    v = JSON.parse(data);
  } catch {
    return undefined;
  }
  const r = schema.safeParse(v);
  return r.success ? r.data : undefined;
}
