import { z } from 'zod';

/** `GET /api/health`: 200 when this replica can do its work, 503 (same body) when its store refuses writes. */
export const HealthStatus = z.object({
  ok: z.boolean(),
  version: z.string(),
  /** Why this replica cannot work (its store was lost), when it cannot. */
  error: z.string().optional(),
  store: z
    .object({
      telemetry: z.object({
        healthy: z.boolean(),
        /** Epoch ms of the latest change between healthy and unhealthy. */
        since: z.number().int().nonnegative(),
        error: z.string().optional(),
        /** Batches held unacknowledged in memory while writes fail. */
        retainedBatches: z.number().int().nonnegative(),
      }),
    })
    .optional(),
});
export type HealthStatus = z.infer<typeof HealthStatus>;
