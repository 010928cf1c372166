import type http from 'node:http';
import type { Duplex } from 'node:stream';
import { EdgehookError } from '@edgehook/shared';
import { nodeHttp } from '@edgehook/shared/node-builtins';
import { engineUnavailableMessage } from './engine-socket.js';

export interface RequestOptions {
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  signal?: AbortSignal | undefined;
  headers?: Record<string, string>;
}

/** Connection failures that mean "no engine here" rather than "the engine refused the request". */
const UNREACHABLE = new Set(['ENOENT', 'ECONNREFUSED', 'EACCES', 'EPERM', 'ENOTSOCK', 'ECONNRESET', 'EPIPE']);

/**
 * A minimal Docker Engine API client over a unix socket with node's http: versioned paths (Podman's
 * compatible service accepts them), errors mapped to EdgehookError, responses left as streams for
 * the callers that follow logs, stats and events.
 */
export class DockerHttp {
  constructor(
    readonly socketPath: string,
    readonly apiVersion = 'v1.41',
  ) {}

  url(path: string, query?: RequestOptions['query']): string {
    const qs = new URLSearchParams();
    for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) qs.set(k, String(v));
    const q = qs.toString();
    return `/${this.apiVersion}${path}${q ? `?${q}` : ''}`;
  }

  /** Sends a request; resolves with the response whatever its status. */
  request(method: string, path: string, opts: RequestOptions = {}): Promise<http.IncomingMessage> {
    return new Promise((resolve, reject) => {
      const body = opts.body === undefined ? undefined : Buffer.from(JSON.stringify(opts.body));
      const headers: Record<string, string | number> = { ...opts.headers };
      if (body) {
        headers['Content-Type'] = 'application/json';
        headers['Content-Length'] = body.length;
      }
      const req = nodeHttp().request({ socketPath: this.socketPath, method, path: this.url(path, opts.query), headers, agent: false, signal: opts.signal });
      req.on('response', resolve);
      req.on('error', (err) => reject(this.mapError(err)));
      req.end(body);
    });
  }

  /** A request whose body is read whole; throws the engine's error for statuses >= 400. */
  async call(method: string, path: string, opts: RequestOptions = {}): Promise<{ status: number; body: Buffer }> {
    const res = await this.request(method, path, opts);
    const body = await readAll(res).catch((err: unknown) => {
      throw this.mapError(err);
    });
    const status = res.statusCode ?? 0;
    if (status >= 400) throw engineError(status, body, `${method} ${path}`);
    return { status, body };
  }

  async json(method: string, path: string, opts: RequestOptions = {}): Promise<unknown> {
    const { body } = await this.call(method, path, opts);
    if (body.length === 0) return null;
    try {
      return JSON.parse(body.toString('utf8'));
    } catch {
      throw new EdgehookError('INTERNAL', `the engine answered ${method} ${path} with something that is not JSON`);
    }
  }

  /** A request the engine hijacks (attach): resolves with the raw bidirectional socket. */
  upgrade(method: string, path: string, opts: RequestOptions = {}): Promise<{ socket: Duplex; head: Buffer }> {
    return new Promise((resolve, reject) => {
      const req = nodeHttp().request({
        socketPath: this.socketPath,
        method,
        path: this.url(path, opts.query),
        headers: { Connection: 'Upgrade', Upgrade: 'tcp', 'Content-Length': 0 },
        agent: false,
      });
      req.on('upgrade', (_res, socket, head) => {
        resolve({ socket, head });
      });
      req.on('response', (res) => {
        // An engine that does not switch protocols answered with an error (or an old-style stream).
        readAll(res).then(
          (body) => reject(engineError(res.statusCode ?? 500, body, `${method} ${path}`)),
          (err: unknown) => reject(this.mapError(err)),
        );
      });
      req.on('error', (err) => reject(this.mapError(err)));
      req.end();
    });
  }

  mapError(err: unknown): Error {
    if (err instanceof EdgehookError) return err;
    const code = typeof err === 'object' && err !== null && 'code' in err ? String(err.code) : '';
    if (UNREACHABLE.has(code)) {
      const why = code === 'EACCES' || code === 'EPERM' ? 'permission denied (is this user in the docker group?)' : code === 'ENOENT' ? 'no such socket' : code === 'ECONNREFUSED' ? 'nothing is listening' : 'the connection broke';
      return new EdgehookError('ENGINE_UNAVAILABLE', engineUnavailableMessage(`container engine at ${this.socketPath} unreachable: ${why} (${code})`));
    }
    return err instanceof Error ? err : new Error(String(err));
  }
}

export function readAll(res: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    res.on('data', (c: Buffer) => parts.push(c));
    res.on('end', () => resolve(Buffer.concat(parts)));
    res.on('error', reject);
    res.on('aborted', () => reject(Object.assign(new Error('the engine closed the response early'), { code: 'ECONNRESET' })));
  });
}

/** The engine's `{"message": ...}` as an EdgehookError with the matching code. */
export function engineError(status: number, body: Buffer, what: string): EdgehookError {
  let message = body.toString('utf8').trim();
  try {
    const parsed: unknown = JSON.parse(message);
    if (typeof parsed === 'object' && parsed !== null && 'message' in parsed && typeof parsed.message === 'string') message = parsed.message;
  } catch {
    // not JSON: keep the text
  }
  message = message || `${what} failed with HTTP ${status}`;
  if (status === 404) return new EdgehookError('NOT_FOUND', message);
  if (status === 409) return new EdgehookError('CONFLICT', message);
  if (status === 400) return new EdgehookError('BAD_REQUEST', message);
  // Podman's compatible API answers some conflicts with 500 where Docker says 409.
  if (/container state improper|is already in use|that name is already in use/.test(message)) return new EdgehookError('CONFLICT', message);
  if (/no such container/.test(message)) return new EdgehookError('NOT_FOUND', message);
  return new EdgehookError('INTERNAL', `container engine: ${message}`);
}

/**
 * The body of a streaming response as chunks. Ends (without error) when the signal aborts, and
 * destroys the response when the consumer stops early, so no socket is left open.
 */
export async function* bodyChunks(res: http.IncomingMessage, signal: AbortSignal | undefined, http_: DockerHttp): AsyncGenerator<Buffer> {
  const onAbort = (): void => {
    res.destroy();
  };
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    if (signal?.aborted) return;
    // No encoding is set, so chunks are Buffers; a string would mean someone set one.
    for await (const chunk of res) yield Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
  } catch (err) {
    if (signal?.aborted) return;
    throw http_.mapError(err);
  } finally {
    signal?.removeEventListener('abort', onAbort);
    res.destroy();
  }
}
