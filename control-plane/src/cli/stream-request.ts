import { ApiErrorBody, decodeJson } from '@edgehook/shared';
import { fetchFor, type ApiClient } from './api-client.js';
import type { CommandContext } from './context.js';
import { CliError, notLoggedIn } from './errors.js';

/**
 * A request whose body streams (file transfer, followed logs), so it cannot go through the JSON
 * client. Call it after an `api.json` call on the same client: that one refreshed the token pair
 * when needed, so the stored access token is fresh.
 */
export async function streamRequest(ctx: CommandContext, api: ApiClient, path: string, init: RequestInit = {}): Promise<Response> {
  const stored = await ctx.store.load();
  if (!stored) throw notLoggedIn(api.server);
  const res = await fetchFor(ctx, api.server, stored.tls)(`${api.server}${path}`, { ...init, headers: { ...(init.headers ?? {}), authorization: `Bearer ${stored.accessToken}` } });
  if (res.ok) return res;
  const body = decodeJson(ApiErrorBody, await res.text());
  throw new CliError(body.ok ? body.value.error.message : `HTTP ${res.status}`);
}
