import * as z from '@edgehook/shared/zod';
import { ApiErrorBody, decodeJson, HealthStatus } from '@edgehook/shared';
import { ApiError, CliError } from './errors.js';

/** One HTTP call to the control plane, without any session logic. */
export interface RequestSpec {
  method: string;
  path: string;
  body?: unknown;
  query?: Record<string, string | undefined>;
  token?: string;
  /** Calls that wait for a long outcome (an agent update) give their own bound. */
  timeoutMs?: number;
}

export interface RawResponse {
  status: number;
  contentType: string;
  text: string;
}

export type FetchFn = typeof globalThis.fetch;

const REQUEST_TIMEOUT_MS = 30_000;
const HEALTH_TIMEOUT_MS = 5_000;


const REASONS: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host not found (DNS lookup failed)',
  ECONNRESET: 'connection reset',
  UND_ERR_SOCKET: 'connection closed unexpectedly',
  ETIMEDOUT: 'connection timed out',
  UND_ERR_CONNECT_TIMEOUT: 'connection timed out',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  EPROTO: 'TLS handshake failed (is it http rather than https?)',
  // The answer to a TLS hello was not TLS: the server speaks plain HTTP on that port.
  ERR_SSL_WRONG_VERSION_NUMBER: 'the server speaks plain HTTP, not HTTPS, on this port: use an http:// URL',
  ERR_SSL_PACKET_LENGTH_TOO_LONG: 'the server speaks plain HTTP, not HTTPS, on this port: use an http:// URL',
};

function codeOf(value: unknown): string | undefined {
  if (!(value instanceof Error)) return undefined;
  if ('code' in value && typeof value.code === 'string') return value.code;
  // Happy-eyeballs (localhost = ::1 and 127.0.0.1) fails with one error per address.
  return value instanceof AggregateError ? codeOf(value.errors[0]) : undefined;
}

/** fetch rejects with a bare "fetch failed"; the reason is in `cause`. */
function describeFetchFailure(err: unknown, timeoutMs: number): string {
  if (err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError')) return `no answer within ${timeoutMs / 1000} s`;
  const cause = err instanceof Error ? err.cause : undefined;
  const code = codeOf(cause) ?? codeOf(err);
  if (code && REASONS[code]) return REASONS[code];
  if (code && /CERT|SSL|TLS/.test(code)) return `TLS certificate problem: ${cause instanceof Error ? cause.message : code}`;
  // fetch refuses ports reserved for other protocols (e.g. 1, 25, 6000) without connecting.
  if (cause instanceof Error && cause.message === 'bad port') return 'fetch refuses this port (reserved for another protocol); use another port';
  if (cause instanceof Error) return cause.message;
  return err instanceof Error ? err.message : String(err);
}

function urlFor(server: string, spec: Pick<RequestSpec, 'path' | 'query'>): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(spec.query ?? {})) if (v !== undefined) params.set(k, v);
  const qs = params.toString();
  return `${server}${spec.path}${qs ? `?${qs}` : ''}`;
}

export async function send(fetch: FetchFn, server: string, spec: RequestSpec, timeoutMs = spec.timeoutMs ?? REQUEST_TIMEOUT_MS): Promise<RawResponse> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (spec.token) headers['authorization'] = `Bearer ${spec.token}`;
  if (spec.body !== undefined) headers['content-type'] = 'application/json';
  try {
    const res = await fetch(urlFor(server, spec), {
      method: spec.method,
      headers,
      ...(spec.body !== undefined ? { body: JSON.stringify(spec.body) } : {}),
      signal: AbortSignal.timeout(timeoutMs),
    });
    return { status: res.status, contentType: res.headers.get('content-type') ?? '', text: await res.text() };
  } catch (err) {
    throw new CliError(`cannot reach ${server}: ${describeFetchFailure(err, timeoutMs)}`);
  }
}

/** The `{error: {code, message}}` body of a failed call, if that is what came back. */
export function apiErrorOf(res: RawResponse): ApiError | null {
  if (res.status < 400) return null;
  const body = decodeJson(ApiErrorBody, res.text);
  return body.ok ? new ApiError(res.status, body.value.error.code, body.value.error.message) : null;
}

function describeResponse(res: RawResponse): string {
  return `HTTP ${res.status}${res.contentType ? ` ${res.contentType.split(';')[0]}` : ''}`;
}

/**
 * A response this CLI cannot read. Most often the URL is some other web server, so ask
 * `/api/health` before blaming the server's version.
 */
export async function unexpectedResponse(fetch: FetchFn, server: string, spec: RequestSpec, res: RawResponse, detail?: string): Promise<CliError> {
  const health = await send(fetch, server, { method: 'GET', path: '/api/health' }, HEALTH_TIMEOUT_MS);
  const decoded = health.status === 200 || health.status === 503 ? decodeJson(HealthStatus, health.text) : null;
  if (!decoded?.ok) return new CliError(`${server} is not an Edgehook server (GET /api/health answered ${describeResponse(health)}); check the --server URL`);
  const what = detail ? `: ${detail}` : '';
  return new CliError(`unexpected answer from the Edgehook server (version ${decoded.value.version}) to ${spec.method} ${spec.path}: ${describeResponse(res)}${what}`);
}

/** A 2xx body validated against `schema`, or the API's error, or an explanation. */
export async function expectJson<S extends z.ZodMiniType>(fetch: FetchFn, server: string, spec: RequestSpec, res: RawResponse, schema: S): Promise<z.output<S>> {
  if (res.status >= 200 && res.status < 300) {
    const decoded = decodeJson(schema, res.text);
    if (decoded.ok) return decoded.value;
    throw await unexpectedResponse(fetch, server, spec, res, decoded.error);
  }
  throw apiErrorOf(res) ?? (await unexpectedResponse(fetch, server, spec, res));
}

/** A 2xx with nothing to read (204 No Content, or `{ok: true}`). */
export async function expectSuccess(fetch: FetchFn, server: string, spec: RequestSpec, res: RawResponse): Promise<void> {
  if (res.status >= 200 && res.status < 300) return;
  throw apiErrorOf(res) ?? (await unexpectedResponse(fetch, server, spec, res));
}
