import { ApiErrorBody, decodeJson, EnrollResponse, ReprovisionResponse, type DeviceDescription } from '@edgehook/shared';
import { describeTlsError } from '@edgehook/shared/transport';

export class EnrollmentError extends Error {
  constructor(message: string, readonly retryable: boolean) {
    super(message);
    this.name = 'EnrollmentError';
  }
}

/** Trades an enrollment token for this device's own credentials (`POST /api/enroll`). */
export async function enroll(server: string, token: string, description: DeviceDescription, fetchImpl: typeof fetch = fetch): Promise<EnrollResponse> {
  let res: Response;
  try {
    res = await fetchImpl(new URL('/api/enroll', server), {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify(description),
      signal: AbortSignal.timeout(15_000),
    });
  } catch (err) {
    // A TLS refusal (untrusted certificate, wrong pin, plain HTTP) will not pass by retrying.
    const cause = err instanceof Error ? err.cause : undefined;
    const tls = describeTlsError(cause, server);
    if (tls) throw new EnrollmentError(`enrollment refused: ${tls}`, false);
    throw new EnrollmentError(`cannot reach ${server}: ${cause instanceof Error ? cause.message : err instanceof Error ? err.message : String(err)}`, true);
  }
  const text = await res.text();
  if (!res.ok) {
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
export async function reprovision(server: string, deviceId: string, secret: string, fetchImpl: typeof fetch = fetch): Promise<ReprovisionResponse['identity']> {
  let res: Response;
  try {
    res = await fetchImpl(new URL('/api/enroll/reprovision', server), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ deviceId, secret }),
      signal: AbortSignal.timeout(15_000),
    });
  } catch (err) {
    const cause = err instanceof Error ? err.cause : undefined;
    throw new EnrollmentError(`cannot reach ${server}: ${describeTlsError(cause, server) ?? (cause instanceof Error ? cause.message : err instanceof Error ? err.message : String(err))}`, true);
  }
  const text = await res.text();
  if (!res.ok) {
    const parsed = decodeJson(ApiErrorBody, text);
    throw new EnrollmentError(`re-provisioning refused (${res.status}): ${parsed.ok ? parsed.value.error.message : text.slice(0, 300)}`, res.status >= 500);
  }
  const body = decodeJson(ReprovisionResponse, text);
  if (!body.ok) throw new EnrollmentError(`the server answered re-provisioning with an unexpected body: ${body.error}`, false);
  return body.value.identity;
}
