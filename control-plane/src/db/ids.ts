import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';

export const newId = (): string => randomUUID();

/** A high-entropy secret with a readable prefix, so leaked tokens are recognisable in logs and scanners. */
export function newSecret(prefix: string): string {
  return `${prefix}_${randomBytes(32).toString('base64url')}`;
}

/**
 * Tokens and device secrets are 256-bit random values, so a fast hash is enough
 * (no dictionary to attack) and keeps thousands of reconnecting devices cheap to check.
 */
export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

export function secretMatches(secret: string, expectedHash: string): boolean {
  const actual = Buffer.from(hashSecret(secret), 'hex');
  const expected = Buffer.from(expectedHash, 'hex');
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

export const isoTime = (ms: number): string => new Date(ms).toISOString();

/** JSON columns are text; a corrupted value must not take a whole listing down. */
export function parseJsonColumn<T>(text: string | null, fallback: T, check: (v: unknown) => v is T): T {
  if (text === null) return fallback;
  try {
    const value: unknown = JSON.parse(text);
    return check(value) ? value : fallback;
  } catch {
    return fallback;
  }
}

export const isStringArray = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === 'string');
