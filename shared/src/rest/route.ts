import * as z from '../zod.js';
import type { Permission } from '../permissions.js';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/**
 * How a caller proves who it is. `bearer`: `Authorization: Bearer <token>`; `cookie`: the
 * `auth_token` session cookie; `basic`: HTTP Basic; `kvmd`: PiKVM's X-KVMD-User/X-KVMD-Passwd
 * headers; `none`: anonymous (login, enrollment, health, installer).
 */
export type AuthScheme = 'bearer' | 'cookie' | 'basic' | 'kvmd' | 'none';

/** Everything `requireAuth` accepts (auth/authenticator.ts reads all four). */
export const SIGNED_IN: readonly AuthScheme[] = ['bearer', 'cookie', 'basic', 'kvmd'];
export const ANONYMOUS: readonly AuthScheme[] = ['none'];

/** What a route answers on success besides JSON. */
export type ResultKind = 'json' | 'text' | 'binary' | 'empty';
/** How the request body travels: JSON validated by `body`, or raw text/bytes/form read by the handler. */
export type BodyKind = 'json' | 'text' | 'binary' | 'form';

/**
 * One REST route, declared once. `path` is hono syntax (`/api/devices/:id`); `params` holds one
 * schema per path parameter (its description names it in errors). `permission` is checked before
 * anything else; `'self'` means "the caller's own account, or users.admin"; null: signed in only.
 * `device` says the route acts on the device named by `:id`: the device middleware resolves it
 * (name or id), `'online'` also refuses an offline device.
 */
export interface RouteSpec {
  readonly method: HttpMethod;
  readonly path: string;
  readonly summary: string;
  readonly tag: string;
  readonly auth: readonly AuthScheme[];
  readonly permission: Permission | 'self' | null;
  readonly device?: 'any' | 'online';
  readonly params?: Readonly<Record<string, z.ZodMiniType>>;
  readonly query?: z.ZodMiniType;
  readonly body?: z.ZodMiniType;
  readonly bodyKind?: BodyKind;
  readonly result: z.ZodMiniType;
  readonly resultKind?: ResultKind;
  /** Success status (200 by default). */
  readonly status?: number;
  /** Compatibility routes answer errors in their own shape (PiKVM envelopes, Encedeus, pow-1 text). */
  readonly errors?: 'edgehook' | 'pikvm' | 'encedeus' | 'pow-text';
}

export function route<const S extends RouteSpec>(spec: S): S {
  return spec;
}

/** A body the handler reads itself (text, bytes), documented as a string. */
export const RawText = z.string().check(z.describe('raw text'));
export const RawBytes = z.string().check(z.describe('raw bytes (application/octet-stream)'));
export const NoContent = z.null().check(z.describe('no content'));
export const Ok = z.object({ ok: z.literal(true) });

/** The device a route under /api/devices/:id acts on: its id or its name. */
export const DeviceIdParam = z.string().check(z.minLength(1), z.maxLength(253), z.describe('device id or name'));

type ParamsOf<S extends RouteSpec> = S['params'] extends Readonly<Record<string, z.ZodMiniType>> ? { [K in keyof S['params']]: z.output<S['params'][K]> } : Record<never, never>;
type OutOrUndefined<T> = T extends z.ZodMiniType ? z.output<T> : undefined;
type InOrUndefined<T> = T extends z.ZodMiniType ? z.input<T> : undefined;

export type RouteParams<S extends RouteSpec> = ParamsOf<S>;
export type RouteQuery<S extends RouteSpec> = OutOrUndefined<S['query']>;
export type RouteBody<S extends RouteSpec> = OutOrUndefined<S['body']>;
/** What a client sends (before defaults and transforms). */
export type RouteBodyInput<S extends RouteSpec> = InOrUndefined<S['body']>;
export type RouteQueryInput<S extends RouteSpec> = InOrUndefined<S['query']>;
export type RouteResult<S extends RouteSpec> = z.output<S['result']>;

/** The path parameters a caller fills in: one string per `:name` of the entry's path. */
export type RoutePathArgs<S extends RouteSpec> = S['params'] extends Readonly<Record<string, z.ZodMiniType>> ? { [K in keyof S['params']]: string } : Record<never, never>;

/** A concrete path for an entry: each `:name` replaced by its value, %-encoded (never a new segment). */
export function pathFor<S extends RouteSpec>(spec: S, params: RoutePathArgs<S>): string {
  const values: Record<string, string> = params;
  return spec.path.replace(/:([A-Za-z_][A-Za-z0-9_]*)/g, (_, name: string) => {
    const value = values[name];
    if (value === undefined) throw new Error(`missing path parameter ${name} for ${spec.method} ${spec.path}`);
    return encodeURIComponent(value);
  });
}
