import { z } from 'zod';

/**
 * Telemetry: batches of samples a device publishes once per collection interval, the Quix
 * `telemetry` snapshot, the agent's local push endpoint for custom series (Perfkit-style
 * traces), and what the query API returns.
 */

/** Dotted lower-case names, e.g. `cpu.usage`, `temp.zone`, `trace.app.latency_ms`. */
export const MetricName = z
  .string()
  .max(128)
  .regex(/^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$/, "metric names are dotted lower-case, e.g. 'cpu.usage'");

export const LabelKey = z.string().regex(/^[a-z][a-z0-9_]{0,31}$/, 'label keys are lower-case identifiers of at most 32 characters');
export const LabelValue = z.string().max(128).regex(/^[^\u0000-\u001f\u007f]*$/, 'label values may not contain control characters');
export const Labels = z.record(LabelKey, LabelValue).refine((l) => Object.keys(l).length <= 8, 'at most 8 labels');
export type Labels = z.infer<typeof Labels>;

export const Sample = z.object({
  /** Metric name. */
  m: MetricName,
  /** Finite value (JSON has no NaN or Infinity anyway). */
  v: z.number(),
  /** Labels such as `{core: '0'}` or `{mount: '/'}`. */
  l: Labels.optional(),
  /** Device time of this sample when it differs from the batch's (custom series). */
  t: z.number().int().nonnegative().optional(),
});
export type Sample = z.infer<typeof Sample>;

export const MAX_SAMPLES_PER_BATCH = 5000;

/** One message per interval on `d/{deviceId}/telemetry`; idempotent by (device, seq). */
export const TelemetryBatch = z.object({
  /** Per-device sequence number: never reused, so a redelivered or replayed batch is stored once. */
  seq: z.number().int().nonnegative(),
  /** Device time (epoch ms) of the collection. */
  ts: z.number().int().nonnegative(),
  samples: z.array(Sample).max(MAX_SAMPLES_PER_BATCH),
  /** Set on batches replayed from the agent's on-disk buffer after an outage. */
  replay: z.boolean().optional(),
  /** Batches/samples the agent's buffer had to drop (full or too old) since the last report. */
  dropped: z.object({ batches: z.number().int().nonnegative(), samples: z.number().int().nonnegative() }).optional(),
});
export type TelemetryBatch = z.infer<typeof TelemetryBatch>;

/**
 * The control plane's answer on `d/{deviceId}/telemetry/ack`, published only after the batches'
 * transaction committed (stored now or already stored): the agent keeps each batch until its
 * sequence number comes back here, not merely until the broker's PUBACK.
 */
export const TelemetryAck = z.object({
  seqs: z.array(z.number().int().nonnegative()).max(10_000),
});
export type TelemetryAck = z.infer<typeof TelemetryAck>;

/** The Quix `telemetry` request: which stats to report now. */
export const StatType = z.enum(['ttl_cpu_usage', 'ttl_mem_usage', 'disk_util', 'vpn_status']);
export type StatType = z.infer<typeof StatType>;

export const TelemetrySnapshotParams = z
  .object({ stat_types: z.array(StatType).min(1).max(4).default(['ttl_cpu_usage', 'ttl_mem_usage', 'disk_util', 'vpn_status']) })
  .strict();

export const VpnStatus = z.object({
  ifname: z.string().max(64),
  conn_type: z.string().max(32),
  conn_host: z.string().max(256).nullable(),
  conn_ip4: z.string().max(64).nullable(),
  conn_ip6: z.string().max(64).nullable(),
  /** Seconds since the latest handshake of any peer (null: never, or unknown without `wg`). */
  last_handshake_s: z.number().nullable().optional(),
  /** Whether the interface is up (beyond Quix's fields; absent from older agents). */
  up: z.boolean().optional(),
});
export type VpnStatus = z.infer<typeof VpnStatus>;

/** The Quix answer, field for field: `tele_data` with the requested stats only. */
export const TelemetrySnapshot = z.object({
  tele_data: z.object({
    /** Usage of each core, 0 ~ 1.00. */
    ttl_cpu_usage: z.array(z.number()).optional(),
    /** [used, buff/cache, free] in MB. */
    ttl_mem_usage: z.tuple([z.number(), z.number(), z.number()]).optional(),
    /** Device -> [bytes used, bytes free]. */
    disk_util: z.record(z.string(), z.tuple([z.number(), z.number()])).optional(),
    /** The first VPN interface, or null when there is none. */
    vpn_status: VpnStatus.nullable().optional(),
  }),
});
export type TelemetrySnapshot = z.infer<typeof TelemetrySnapshot>;

/** Trace group names (Perfkit "traces"): one path segment of the metric `trace.<group>.<name>`. */
export const TraceGroup = z.string().regex(/^[a-z][a-z0-9_]{0,47}$/, 'group names are lower-case identifiers of at most 48 characters');
export const TraceName = z.string().regex(/^[a-z][a-z0-9_]{0,63}(\.[a-z0-9_]{1,64}){0,3}$/, "series names are dotted lower-case, e.g. 'latency_ms'");

/** What an application on the device POSTs to the agent's local endpoint. */
export const TracePush = z
  .object({
    group: TraceGroup,
    samples: z
      .array(z.object({ name: TraceName, value: z.number(), ts: z.number().int().nonnegative().optional(), labels: Labels.optional() }).strict())
      .min(1)
      .max(1000),
  })
  .strict();
export type TracePush = z.infer<typeof TracePush>;

export const AggFn = z.enum(['avg', 'min', 'max', 'last', 'sum', 'count']);
export type AggFn = z.infer<typeof AggFn>;

/** One aligned series: `points[i]` is the bucket starting at `from + i * step` (null = no data). */
export const SeriesView = z.object({
  labels: z.record(z.string(), z.string()),
  points: z.array(z.tuple([z.number(), z.number().nullable()])),
});
export type SeriesView = z.infer<typeof SeriesView>;

export const TelemetryQueryResult = z.object({
  device: z.object({ id: z.string(), name: z.string() }),
  metric: z.string(),
  from: z.number(),
  to: z.number(),
  step: z.number(),
  agg: AggFn,
  /** Which table answered: raw samples or a rollup. */
  source: z.enum(['raw', '1m', '1h']),
  series: z.array(SeriesView),
});
export type TelemetryQueryResult = z.infer<typeof TelemetryQueryResult>;

export const MetricInfo = z.object({ metric: z.string(), series: z.number(), labels: z.array(z.record(z.string(), z.string())), lastTs: z.number().nullable() });
export const MetricList = z.object({ device: z.object({ id: z.string(), name: z.string() }), metrics: z.array(MetricInfo) });
export type MetricList = z.infer<typeof MetricList>;

export const LatestEntry = z.object({
  deviceId: z.string(),
  device: z.string(),
  online: z.boolean(),
  metric: z.string(),
  labels: z.record(z.string(), z.string()),
  ts: z.number(),
  value: z.number(),
});
export type LatestEntry = z.infer<typeof LatestEntry>;
export const LatestResult = z.object({ metric: z.string(), entries: z.array(LatestEntry) });
export type LatestResult = z.infer<typeof LatestResult>;

/** Frames of the live socket `/api/telemetry/live`. */
export const LiveFrame = z.discriminatedUnion('type', [
  z.object({ type: z.literal('hello'), devices: z.number(), metrics: z.array(z.string()) }),
  z.object({ type: z.literal('samples'), deviceId: z.string(), device: z.string(), ts: z.number(), replay: z.boolean(), samples: z.array(Sample) }),
  z.object({ type: z.literal('dropped'), count: z.number() }),
]);
export type LiveFrame = z.infer<typeof LiveFrame>;
