import { sql, type Kysely } from 'kysely';
import type { Database } from '../db/database.js';

/**
 * Failed-login counters in the store, so every replica sees the same counts. A key locks after
 * `threshold` failures inside `windowMs`, for a backoff that doubles with each further failure.
 */
export interface ThrottlePolicy {
  threshold: number;
  windowMs: number;
  baseLockMs: number;
  maxLockMs: number;
}

export const ACCOUNT_POLICY: ThrottlePolicy = { threshold: 5, windowMs: 15 * 60_000, baseLockMs: 1000, maxLockMs: 15 * 60_000 };
export const ADDRESS_POLICY: ThrottlePolicy = { threshold: 20, windowMs: 15 * 60_000, baseLockMs: 1000, maxLockMs: 15 * 60_000 };

/** Milliseconds until the first of `keys` unlocks; 0 when none is locked. */
export async function lockedFor(db: Kysely<Database>, keys: string[], now: number): Promise<number> {
  if (keys.length === 0) return 0;
  const rows = await db.selectFrom('login_throttle').select('locked_until').where('key', 'in', keys).execute();
  let wait = 0;
  for (const r of rows) wait = Math.max(wait, Number(r.locked_until) - now);
  return wait;
}

/** Counts one failure against `key` (atomic across replicas) and sets its lock from the new count. */
export async function recordFailure(db: Kysely<Database>, key: string, policy: ThrottlePolicy, now: number): Promise<void> {
  const cutoff = now - policy.windowMs;
  await db
    .insertInto('login_throttle')
    .values({ key, failures: 1, first_failure_at: now, locked_until: 0 })
    .onConflict((oc) =>
      oc.column('key').doUpdateSet({
        failures: sql`CASE WHEN login_throttle.first_failure_at < ${cutoff} THEN 1 ELSE login_throttle.failures + 1 END`,
        first_failure_at: sql`CASE WHEN login_throttle.first_failure_at < ${cutoff} THEN ${now} ELSE login_throttle.first_failure_at END`,
      }),
    )
    .execute();
  const row = await db.selectFrom('login_throttle').select('failures').where('key', '=', key).executeTakeFirst();
  const failures = Number(row?.failures ?? 0);
  if (failures < policy.threshold) return;
  const lockMs = Math.min(policy.maxLockMs, policy.baseLockMs * 2 ** Math.min(30, failures - policy.threshold));
  await db.updateTable('login_throttle').set({ locked_until: now + lockMs }).where('key', '=', key).execute();
}

export async function clearKey(db: Kysely<Database>, key: string): Promise<void> {
  await db.deleteFrom('login_throttle').where('key', '=', key).execute();
}

/** Housekeeping: counters whose window and lock both ended. */
export async function pruneThrottle(db: Kysely<Database>, now: number, windowMs: number): Promise<void> {
  await db.deleteFrom('login_throttle').where('first_failure_at', '<', now - windowMs).where('locked_until', '<', now).execute();
}
