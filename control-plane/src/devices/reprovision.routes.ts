import { Hono } from 'hono';
import { EdgehookError, ReprovisionRequest, type ReprovisionResponse } from '@edgehook/shared';
import type { AppEnv } from '../http/context.js';
import { jsonBody } from '../http/validate.js';
import { secretMatches } from '../db/ids.js';
import { brokerChange } from './devices.routes.js';
import { findSecretHash } from './devices.repository.js';
import type { EnrollmentDeps } from './enrollment.routes.js';

/**
 * `POST /api/enroll/reprovision`: the way back for a device whose broker identity is gone
 * (reconciliation reports such devices at start). The device authenticates with its own secret,
 * checked against the store's hash; only a missing identity is created again, so a device the
 * broker disabled stays disabled and a deleted one stays deleted.
 */
export function reprovisionRoutes(deps: Pick<EnrollmentDeps, 'db' | 'broker' | 'log'>): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.post('/reprovision', async (c) => {
    const { deviceId, secret } = await jsonBody(c, ReprovisionRequest);
    const stored = await findSecretHash(deps.db, deviceId);
    // One answer for "no such device" and "wrong secret": the id alone proves nothing.
    if (stored === undefined || !secretMatches(secret, stored)) throw new EdgehookError('UNAUTHENTICATED', 'unknown device or wrong device secret: enroll again with a token');
    const identity = await deps.broker.identity(deviceId).catch((err: unknown) => {
      throw new EdgehookError('BROKER_UNAVAILABLE', `the broker did not answer: ${err instanceof Error ? err.message : String(err)}`);
    });
    if (identity === 'disabled') throw new EdgehookError('FORBIDDEN', 'this device is disabled at the broker (it published malformed data); delete and enroll it again');
    if (identity === 'present') {
      const body: ReprovisionResponse = { identity: 'present' };
      return c.json(body);
    }
    await brokerChange(() => deps.broker.provisionDevice(deviceId, secret));
    deps.log.warn('gave a device its lost broker identity back', { deviceId });
    const body: ReprovisionResponse = { identity: 'restored' };
    return c.json(body);
  });
  return app;
}
