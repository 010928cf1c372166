import type { Context } from 'hono';
import { getConnInfo } from '@hono/node-server/conninfo';
import { EdgehookError } from '@edgehook/shared';
import * as z from '@edgehook/shared/zod';

/** The peer's address (no proxy headers are trusted); 'unknown' when the app runs in memory (tests). */
export function clientAddress(c: Context): string {
  try {
    return getConnInfo(c).remote.address ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

const RetryDetails = z.object({ retryAfterSec: z.number().check(z.int(), z.positive()) });

/** Seconds a throttled caller should wait (the Retry-After header), when the error says. */
export function retryAfterOf(err: unknown): number | undefined {
  if (!(err instanceof EdgehookError) || err.code !== 'TOO_MANY_REQUESTS') return undefined;
  const parsed = RetryDetails.safeParse(err.details);
  return parsed.success ? parsed.data.retryAfterSec : undefined;
}
