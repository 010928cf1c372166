import * as z from '../zod.js';

/** `GET /api/health`: 200 when this replica can do its work, 503 (same body) when its store refuses writes. */
export const HealthStatus = z.object({
  ok: z.boolean(),
  version: z.string(),
  /** Why this replica cannot work (its store was lost), when it cannot. */
  error: z.optional(z.string()),
  store: z.optional(z.object({
      telemetry: z.object({
        healthy: z.boolean(),
        /** Epoch ms of the latest change between healthy and unhealthy. */
        since: z.number().check(z.int(), z.nonnegative()),
        error: z.optional(z.string()),
        /** Batches held unacknowledged in memory while writes fail. */
        retainedBatches: z.number().check(z.int(), z.nonnegative()),
      }),
    })),
});
export type HealthStatus = z.infer<typeof HealthStatus>;
