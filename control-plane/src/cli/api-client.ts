import type * as z from '@edgehook/shared/zod';
import { TokenPair, decodeJson } from '@edgehook/shared';
import type { CommandContext } from './context.js';
import type { CredentialsStore, StoredCredentials } from './credentials.store.js';
import type { ConnectionOptions } from 'node:tls';
import { describeTlsError, tlsOptionsFor, tlsTarget, type TlsTrust } from '@edgehook/shared/transport';
import { CliError, notLoggedIn, sessionExpired } from './errors.js';
import { apiErrorOf, expectJson, expectSuccess, send, unexpectedResponse, type FetchFn, type RawResponse, type RequestSpec } from './http.client.js';
import { normalizeServerUrl } from './server-url.js';
import { pathFor, type RouteBodyInput, type RoutePathArgs, type RouteResult, type RouteSpec } from '@edgehook/shared/rest';

/** Refresh this long before the stored expiry, so a token does not lapse in flight. */
const EXPIRY_MARGIN_MS = 10_000;

export type CallOptions = Omit<RequestSpec, 'method' | 'path' | 'token'>;

/** What a call of a map entry sends: its path parameters, query and body, typed by the entry. */
export interface RouteCall<S extends RouteSpec> {
  params: RoutePathArgs<S>;
  query?: Record<string, string | undefined>;
  body?: RouteBodyInput<S>;
  timeoutMs?: number;
}

/** Stores a freshly issued pair; `accessExpiresAt` comes from the relative `expiresIn`. */
export function credentialsFrom(server: string, username: string, pair: TokenPair, now: number, tls?: StoredCredentials['tls']): StoredCredentials {
  return {
    ...(tls ? { tls } : {}),
    server,
    username,
    accessToken: pair.accessToken,
    refreshToken: pair.refreshToken,
    accessExpiresAt: new Date(now + pair.expiresIn * 1000).toISOString(),
  };
}

function parseEmpty<S extends z.ZodMiniType>(schema: S): z.output<S> {
  return schema.parse(null);
}

/** A rejected token (401, or 403 INVALID_CREDENTIALS), as opposed to a missing permission. */
function isAuthFailure(res: RawResponse): boolean {
  if (res.status === 401) return true;
  return res.status === 403 && apiErrorOf(res)?.code === 'INVALID_CREDENTIALS';
}

/** Calls the API as the logged-in user, refreshing the token pair when needed. */
export class ApiClient {
  private credentials: StoredCredentials;

  constructor(
    private readonly deps: { fetch: FetchFn; now: () => number; store: CredentialsStore },
    readonly server: string,
    credentials: StoredCredentials,
  ) {
    this.credentials = credentials;
  }

  async json<S extends z.ZodMiniType>(schema: S, method: string, path: string, options: CallOptions = {}): Promise<z.output<S>> {
    const spec = { method, path, ...options };
    return expectJson(this.deps.fetch, this.server, spec, await this.authorized(spec), schema);
  }

  /**
   * Calls one entry of the REST map (shared/src/rest/): method and path from the map, the answer
   * parsed with the entry's result schema, so request and result types follow the map.
   */
  async route<S extends RouteSpec>(spec: S, input: RouteCall<S>): Promise<RouteResult<S>> {
    const options: CallOptions = { ...(input.query ? { query: input.query } : {}), ...(input.body !== undefined ? { body: input.body } : {}), ...(input.timeoutMs !== undefined ? { timeoutMs: input.timeoutMs } : {}) };
    const path = pathFor(spec, input.params);
    const schema: S['result'] = spec.result;
    if (spec.resultKind === 'empty') {
      await this.call(spec.method, path, options);
      // An empty answer is the declared `null` (NoContent): parsed, not assumed.
      return parseEmpty(schema);
    }
    return this.json(schema, spec.method, path, options);
  }

  /** A text answer (a route with `resultKind: 'text'`), as sent. */
  async text(method: string, path: string, options: CallOptions = {}): Promise<string> {
    const spec = { method, path, ...options };
    const res = await this.authorized(spec);
    await expectSuccess(this.deps.fetch, this.server, spec, res);
    return res.text;
  }

  async call(method: string, path: string, options: CallOptions = {}): Promise<void> {
    const spec = { method, path, ...options };
    return expectSuccess(this.deps.fetch, this.server, spec, await this.authorized(spec));
  }

  /** TLS options for this server's websockets, with the login's trust. */
  socketTls(): Promise<ConnectionOptions> {
    return socketTls(this.server, this.credentials);
  }

  private expired(credentials: StoredCredentials): boolean {
    return Date.parse(credentials.accessExpiresAt) - EXPIRY_MARGIN_MS <= this.deps.now();
  }

  /** Sends with the access token; on expiry or rejection refreshes once and sends again. */
  private async authorized(spec: RequestSpec): Promise<RawResponse> {
    let refreshed = false;
    if (this.expired(this.credentials)) {
      await this.refresh();
      refreshed = true;
    }
    let res = await send(this.deps.fetch, this.server, { ...spec, token: this.credentials.accessToken });
    if (isAuthFailure(res) && !refreshed) {
      await this.refresh();
      res = await send(this.deps.fetch, this.server, { ...spec, token: this.credentials.accessToken });
    }
    if (isAuthFailure(res)) throw sessionExpired(this.server);
    return res;
  }

  private async refresh(): Promise<void> {
    const stale = this.credentials;
    this.credentials = await this.deps.store.withLock(async () => {
      const current = await this.deps.store.load();
      if (!current || current.server !== this.server) throw sessionExpired(this.server);
      // Another edgehook command rotated the pair while we waited for the lock: use its
      // result; sending our (now used) refresh token would revoke the whole session.
      if (current.refreshToken !== stale.refreshToken && !this.expired(current)) return current;
      const spec: RequestSpec = { method: 'POST', path: '/api/auth/refresh', token: current.refreshToken };
      const res = await send(this.deps.fetch, this.server, spec);
      if (res.status === 401 || res.status === 403) throw sessionExpired(this.server);
      if (res.status !== 200) throw apiErrorOf(res) ?? (await unexpectedResponse(this.deps.fetch, this.server, spec, res));
      const pair = decodeJson(TokenPair, res.text);
      if (!pair.ok) throw await unexpectedResponse(this.deps.fetch, this.server, spec, res, pair.error);
      const next = credentialsFrom(this.server, current.username, pair.value, this.deps.now(), current.tls);
      await this.deps.store.save(next);
      return next;
    });
  }
}

/** `--server`, else EDGEHOOK_SERVER, else nothing (the stored server is used). */
export function serverOverride(flag: string | undefined, env: NodeJS.ProcessEnv): string | undefined {
  const raw = flag ?? (env['EDGEHOOK_SERVER'] || undefined);
  return raw === undefined ? undefined : normalizeServerUrl(raw);
}

/**
 * The client for a logged-in command. Tokens are only ever sent to the server that issued
 * them: a different `--server` (or a stale EDGEHOOK_SERVER) must not leak them elsewhere.
 */
export async function openSession(ctx: CommandContext, serverFlag: string | undefined): Promise<ApiClient> {
  const override = serverOverride(serverFlag, ctx.io.env);
  const stored = await ctx.store.load();
  if (!stored) throw notLoggedIn(override);
  const server = override ?? stored.server;
  if (server !== stored.server) throw notLoggedIn(server, ` to ${server} (the stored login is for ${stored.server})`);
  return new ApiClient({ fetch: fetchFor(ctx, server, stored.tls), now: ctx.now, store: ctx.store }, server, stored);
}

/** HTTPS goes through the trust-enforcing fetch (system CAs, --ca or a pin), so TLS failures read clearly. */
export function fetchFor(ctx: CommandContext, server: string, trust: TlsTrust | undefined): FetchFn {
  return server.startsWith('https:') && ctx.tlsFetch ? ctx.tlsFetch(trust ?? {}) : ctx.fetch;
}

/** TLS options for a websocket (ws) to the stored server, with the login's trust. */
export async function socketTls(server: string, stored: StoredCredentials): Promise<ConnectionOptions> {
  const target = tlsTarget(server.replace(/^http/, 'ws'));
  if (!target) return {};
  try {
    return await tlsOptionsFor(stored.tls ?? {}, target);
  } catch (err) {
    throw new CliError(`cannot connect to ${server}: ${describeTlsError(err, server) ?? (err instanceof Error ? err.message : String(err))}`);
  }
}
