import * as z from '@edgehook/shared/zod';
import { transformIssue } from '@edgehook/shared/zod';
import { COLLECTOR_NAMES, type CollectorName } from './collectors.js';

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

function durationMs(v: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/.exec(v.trim());
  return m ? Math.round(Number(m[1]) * (UNIT_MS[m[2] ?? 's'] ?? 1000)) : NaN;
}

export const TelemetryInterval = z.pipe(z.string(), z.transform(durationMs)).check(z.refine((ms) => Number.isFinite(ms) && ms >= 1000 && ms <= 3_600_000, 'must be a duration from 1s to 1h, e.g. 10s'));

export const BufferAge = z.pipe(z.string(), z.transform(durationMs)).check(z.refine((ms) => Number.isFinite(ms) && ms >= 60_000, 'must be a duration of at least 1m, e.g. 7d'));

/** `disk=60s,wireguard=off`: per-collector intervals (multiples of the base interval) or off. */
const CollectorNameSchema = z.enum(COLLECTOR_NAMES);

export const CollectorOverrides = z.pipe(z.string(), z.transform((v, ctx) => {
  const out: Partial<Record<CollectorName, number | 'off'>> = {};
  for (const part of v.split(',').map((s) => s.trim()).filter(Boolean)) {
    const [rawName, value] = part.split('=');
    const parsed = CollectorNameSchema.safeParse(rawName);
    if (!parsed.success || !value) {
      transformIssue(ctx, `expected name=interval|off with a collector of ${COLLECTOR_NAMES.join(', ')}, got ${JSON.stringify(part)}`);
      return z.NEVER;
    }
    const ms = value === 'off' ? 'off' : durationMs(value);
    if (ms !== 'off' && (!Number.isFinite(ms) || ms < 1000)) {
      transformIssue(ctx, `interval for ${parsed.data} must be a duration of at least 1s or off, got ${JSON.stringify(value)}`);
      return z.NEVER;
    }
    out[parsed.data] = ms;
  }
  return out;
}));

export const LocalPort = z.union([z.pipe(z.literal('off'), z.transform(() => null)), z.coerce.number().check(z.int(), z.gte(0), z.lte(65535))]);

export interface TelemetryConfig {
  intervalMs: number;
  collectors: Partial<Record<CollectorName, number | 'off'>>;
  bufferBytes: number;
  bufferMaxAgeMs: number;
  replayPerSecond: number;
  /** null = no local endpoint; 0 = any free port. */
  localPort: number | null;
}
