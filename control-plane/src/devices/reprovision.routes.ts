import { Hono } from 'hono';
import { EdgehookError } from '@edgehook/shared';
import { CoreRoutes as R } from '@edgehook/shared/rest';
import type { AppEnv } from '../http/context.js';
import { routeMounter } from '../http/rest-route.js';
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
  routeMounter(app, '/api/enroll', deps.db)(R.enrollReprovision, async ({ body: { deviceId, secret } }) => {
    const stored = await findSecretHash(deps.db, deviceId);
    // One answer for "no such device" and "wrong secret": the id alone proves nothing.
    if (stored === undefined || !secretMatches(secret, stored)) throw new EdgehookError('UNAUTHENTICATED', 'unknown device or wrong device secret: enroll again with a token');
    const identity = await deps.broker.identity(deviceId).catch((err: unknown) => {
      throw new EdgehookError('BROKER_UNAVAILABLE', `the broker did not answer: ${err instanceof Error ? err.message : String(err)}`);
    });
    if (identity === 'disabled') throw new EdgehookError('FORBIDDEN', 'this device is disabled at the broker (it published malformed data); delete and enroll it again');
    if (identity === 'present') return { identity: 'present' as const };
    await brokerChange(() => deps.broker.provisionDevice(deviceId, secret));
    deps.log.warn('gave a device its lost broker identity back', { deviceId });
    return { identity: 'restored' as const };
  });
  return app;
}
