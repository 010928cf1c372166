import type { IncomingMessage } from 'node:http';
import { ApiErrorBody, decodeJson, EnrollResponse, ReprovisionResponse, type DeviceDescription } from '@edgehook/shared';
import { describeTlsError, tlsOptionsFor, tlsTarget, TlsTrustError, type TlsTrust } from '@edgehook/shared/transport';
import { nodeHttp, nodeHttps } from '@edgehook/shared/node-builtins';

/** What enrollment needs of HTTP: one POST, its status and body text. Rejects with the network or TLS error as `cause`. */
export type PostJson = (url: URL, headers: Record<string, string>, body: string) => Promise<{ status: number; text: string }>;

/** Enrollment answers are small; a larger body is not an answer. */
const MAX_ANSWER_BYTES = 1024 * 1024;

/**
 * POST over node:http(s), with the TLS trust (CA file or pinned fingerprint) applied to https.
 * Not the global fetch: its first use loads undici, about 13 MB of RSS the agent keeps for good
 * (issue 12's lean agent), for one request per enrollment.
 */
export function nodePostJson(trust: TlsTrust, timeoutMs = 15_000): PostJson {
  return async (url, headers, body) => {
    const failed = (err: unknown): Error => {
      const words = describeTlsError(err, url.host);
      return new Error('request failed', { cause: words ? new TlsTrustError(words) : err });
    };
    const target = tlsTarget(url.href);
    let tls = {};
    if (url.protocol === 'https:' && target) {
      try {
        tls = await tlsOptionsFor(trust, target);
      } catch (err) {
        throw failed(err);
      }
    }
    const send = url.protocol === 'https:' ? nodeHttps().request : nodeHttp().request;
    return new Promise((resolve, reject) => {
      const options = { method: 'POST', headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) }, signal: AbortSignal.timeout(timeoutMs), ...tls };
      const req = send(url, options, (res: IncomingMessage) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_ANSWER_BYTES) return req.destroy(new Error(`the answer is larger than ${MAX_ANSWER_BYTES} bytes`));
          chunks.push(chunk);
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 502, text: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', (err) => reject(failed(err)));
      });
      req.on('error', (err) => reject(failed(err)));
      req.end(body);
    });
  };
}

export class EnrollmentError extends Error {
  constructor(message: string, readonly retryable: boolean) {
    super(message);
    this.name = 'EnrollmentError';
  }
}

/** Trades an enrollment token for this device's own credentials (`POST /api/enroll`). */
export async function enroll(server: string, token: string, description: DeviceDescription, post: PostJson = nodePostJson({})): Promise<EnrollResponse> {
  let res: { status: number; text: string };
  try {
    res = await post(new URL('/api/enroll', server), { 'content-type': 'application/json', authorization: `Bearer ${token}` }, JSON.stringify(description));
  } catch (err) {
    // A TLS refusal (untrusted certificate, wrong pin, plain HTTP) will not pass by retrying.
    const cause = err instanceof Error ? err.cause : undefined;
    const tls = describeTlsError(cause, server);
    if (tls) throw new EnrollmentError(`enrollment refused: ${tls}`, false);
    throw new EnrollmentError(`cannot reach ${server}: ${cause instanceof Error ? cause.message : err instanceof Error ? err.message : String(err)}`, true);
  }
  const text = res.text;
  if (res.status < 200 || res.status > 299) {
    let message = text.slice(0, 300);
    const parsed = decodeJson(ApiErrorBody, text);
    if (parsed.ok) message = parsed.value.error.message;
    // 4xx will not get better by retrying (bad token, bad description); 5xx might.
    throw new EnrollmentError(`enrollment refused (${res.status}): ${message}`, res.status >= 500);
  }
  const body = decodeJson(EnrollResponse, text);
  if (!body.ok) throw new EnrollmentError(`the server answered enrollment with an unexpected body: ${body.error}`, false);
  return body.value;
}

/**
 * Asks the control plane to give this device its broker identity back (`POST
 * /api/enroll/reprovision`), proving who it is with its own secret. Used when the broker refuses
 * credentials the control plane still knows (a Mosquitto whose dynsec file was lost).
 */
export async function reprovision(server: string, deviceId: string, secret: string, post: PostJson = nodePostJson({})): Promise<ReprovisionResponse['identity']> {
  let res: { status: number; text: string };
  try {
    res = await post(new URL('/api/enroll/reprovision', server), { 'content-type': 'application/json' }, JSON.stringify({ deviceId, secret }));
  } catch (err) {
    const cause = err instanceof Error ? err.cause : undefined;
    throw new EnrollmentError(`cannot reach ${server}: ${describeTlsError(cause, server) ?? (cause instanceof Error ? cause.message : err instanceof Error ? err.message : String(err))}`, true);
  }
  if (res.status < 200 || res.status > 299) {
    const parsed = decodeJson(ApiErrorBody, res.text);
    throw new EnrollmentError(`re-provisioning refused (${res.status}): ${parsed.ok ? parsed.value.error.message : res.text.slice(0, 300)}`, res.status >= 500);
  }
  const body = decodeJson(ReprovisionResponse, res.text);
  if (!body.ok) throw new EnrollmentError(`the server answered re-provisioning with an unexpected body: ${body.error}`, false);
  return body.value.identity;
}
