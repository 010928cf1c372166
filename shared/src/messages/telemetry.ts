import * as z from '../zod.js';
import { validate, type Decoded } from '../codec.js';

/**
 * Telemetry: batches of samples a device publishes once per collection interval, the Quix
 * `telemetry` snapshot, the agent's local push endpoint for custom series (Perfkit-style
 * traces), and what the query API returns.
 */

// The patterns are declared once: the zod schemas below and the hand-written check
// (isPlainTelemetryBatch) both use them.
const METRIC_NAME = /^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$/;
const LABEL_KEY = /^[a-z][a-z0-9_]{0,31}$/;
const LABEL_VALUE = /^[^\u0000-\u001f\u007f]*$/;
const MAX_NAME = 128;
const MAX_LABEL_VALUE = 128;
const MAX_LABELS = 8;

/** Dotted lower-case names, e.g. `cpu.usage`, `temp.zone`, `trace.app.latency_ms`. */
export const MetricName = z.string().check(z.maxLength(MAX_NAME), z.regex(METRIC_NAME, "metric names are dotted lower-case, e.g. 'cpu.usage'"));

export const LabelKey = z.string().check(z.regex(LABEL_KEY, 'label keys are lower-case identifiers of at most 32 characters'));
export const LabelValue = z.string().check(z.maxLength(MAX_LABEL_VALUE), z.regex(LABEL_VALUE, 'label values may not contain control characters'));
export const Labels = z.record(LabelKey, LabelValue).check(z.refine((l) => Object.keys(l).length <= MAX_LABELS, `at most ${MAX_LABELS} labels`));
export type Labels = z.infer<typeof Labels>;

export const Sample = z.object({
  /** Metric name. */
  m: MetricName,
  /** Finite value (JSON has no NaN or Infinity anyway). */
  v: z.number(),
  /** Labels such as `{core: '0'}` or `{mount: '/'}`. */
  l: z.optional(Labels),
  /** Device time of this sample when it differs from the batch's (custom series). */
  t: z.optional(z.number().check(z.int(), z.nonnegative())),
});
export type Sample = z.infer<typeof Sample>;

export const MAX_SAMPLES_PER_BATCH = 5000;

/** One message per interval on `d/{deviceId}/telemetry`; idempotent by (device, seq). */
export const TelemetryBatch = z.object({
  /** Per-device sequence number: never reused, so a redelivered or replayed batch is stored once. */
  seq: z.number().check(z.int(), z.nonnegative()),
  /** Device time (epoch ms) of the collection. */
  ts: z.number().check(z.int(), z.nonnegative()),
  samples: z.array(Sample).check(z.maxLength(MAX_SAMPLES_PER_BATCH)),
  /** Set on batches replayed from the agent's on-disk buffer after an outage. */
  replay: z.optional(z.boolean()),
  /** Batches/samples the agent's buffer had to drop (full or too old) since the last report. */
  dropped: z.optional(z.object({ batches: z.number().check(z.int(), z.nonnegative()), samples: z.number().check(z.int(), z.nonnegative()) })),
});
export type TelemetryBatch = z.infer<typeof TelemetryBatch>;

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

const isCount = (v: unknown): boolean => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

function isPlainLabels(l: unknown): boolean {
  if (!isPlainObject(l)) return false;
  let n = 0;
  for (const k in l) {
    if (++n > MAX_LABELS || !LABEL_KEY.test(k)) return false;
    const v = l[k];
    if (typeof v !== 'string' || v.length > MAX_LABEL_VALUE || !LABEL_VALUE.test(v)) return false;
  }
  return true;
}

function isPlainSample(s: unknown): boolean {
  if (!isPlainObject(s)) return false;
  for (const k in s) if (k !== 'm' && k !== 'v' && k !== 'l' && k !== 't') return false;
  const { m, v, l, t } = s;
  if (typeof m !== 'string' || m.length > MAX_NAME || !METRIC_NAME.test(m)) return false;
  if (typeof v !== 'number' || !Number.isFinite(v)) return false;
  if ('l' in s && !isPlainLabels(l)) return false;
  return !('t' in s) || isCount(t);
}

/**
 * The hot path's check of a parsed batch (~100k samples/s through the broker): true only for a
 * value TelemetryBatch accepts and would return unchanged (no unknown keys to strip, no undefined
 * members), so the value can be used as it is. Anything else answers false and goes through the
 * zod schema, which then accepts (stripping what it strips) or explains the refusal. The two are
 * compared in shared/test/telemetry-check.test.ts. zod costs ~2.6 µs a sample here, z.record half of it.
 */
export function isPlainTelemetryBatch(value: unknown): value is TelemetryBatch {
  if (!isPlainObject(value)) return false;
  for (const k in value) if (k !== 'seq' && k !== 'ts' && k !== 'samples' && k !== 'replay' && k !== 'dropped') return false;
  const { seq, ts, samples, replay, dropped } = value;
  if (!isCount(seq) || !isCount(ts)) return false;
  if (!Array.isArray(samples) || samples.length > MAX_SAMPLES_PER_BATCH) return false;
  for (let i = 0; i < samples.length; i++) if (!isPlainSample(samples[i])) return false;
  if ('replay' in value && typeof replay !== 'boolean') return false;
  if ('dropped' in value) {
    if (!isPlainObject(dropped)) return false;
    for (const k in dropped) if (k !== 'batches' && k !== 'samples') return false;
    if (!isCount(dropped['batches']) || !isCount(dropped['samples'])) return false;
  }
  return true;
}

/** TelemetryBatch's verdict on a parsed value, the plain case without zod (isPlainTelemetryBatch). */
export function checkTelemetryBatch(value: unknown): Decoded<TelemetryBatch> {
  return isPlainTelemetryBatch(value) ? { ok: true, value } : validate(TelemetryBatch, value);
}

/**
 * The control plane's answer on `d/{deviceId}/telemetry/ack`, published only after the batches'
 * transaction committed (stored now or already stored): the agent keeps each batch until its
 * sequence number comes back here, not merely until the broker's PUBACK.
 */
export const TelemetryAck = z.object({
  seqs: z.array(z.number().check(z.int(), z.nonnegative())).check(z.maxLength(10_000)),
});
export type TelemetryAck = z.infer<typeof TelemetryAck>;

/** The Quix `telemetry` request: which stats to report now. */
export const StatType = z.enum(['ttl_cpu_usage', 'ttl_mem_usage', 'disk_util', 'vpn_status']);
export type StatType = z.infer<typeof StatType>;

export const TelemetrySnapshotParams = z.strictObject({ stat_types: z._default(z.array(StatType).check(z.minLength(1), z.maxLength(4)), ['ttl_cpu_usage', 'ttl_mem_usage', 'disk_util', 'vpn_status']) });

export const VpnStatus = z.object({
  ifname: z.string().check(z.maxLength(64)),
  conn_type: z.string().check(z.maxLength(32)),
  conn_host: z.nullable(z.string().check(z.maxLength(256))),
  conn_ip4: z.nullable(z.string().check(z.maxLength(64))),
  conn_ip6: z.nullable(z.string().check(z.maxLength(64))),
  /** Seconds since the latest handshake of any peer (null: never, or unknown without `wg`). */
  last_handshake_s: z.optional(z.nullable(z.number())),
  /** Whether the interface is up (beyond Quix's fields; absent from older agents). */
  up: z.optional(z.boolean()),
});
export type VpnStatus = z.infer<typeof VpnStatus>;

/** The Quix answer, field for field: `tele_data` with the requested stats only. */
export const TelemetrySnapshot = z.object({
  tele_data: z.object({
    /** Usage of each core, 0 ~ 1.00. */
    ttl_cpu_usage: z.optional(z.array(z.number())),
    /** [used, buff/cache, free] in MB. */
    ttl_mem_usage: z.optional(z.tuple([z.number(), z.number(), z.number()])),
    /** Device -> [bytes used, bytes free]. */
    disk_util: z.optional(z.record(z.string(), z.tuple([z.number(), z.number()]))),
    /** The first VPN interface, or null when there is none. */
    vpn_status: z.optional(z.nullable(VpnStatus)),
  }),
});
export type TelemetrySnapshot = z.infer<typeof TelemetrySnapshot>;

/** Trace group names (Perfkit "traces"): one path segment of the metric `trace.<group>.<name>`. */
export const TraceGroup = z.string().check(z.regex(/^[a-z][a-z0-9_]{0,47}$/, 'group names are lower-case identifiers of at most 48 characters'));
export const TraceName = z.string().check(z.regex(/^[a-z][a-z0-9_]{0,63}(\.[a-z0-9_]{1,64}){0,3}$/, "series names are dotted lower-case, e.g. 'latency_ms'"));

/** What an application on the device POSTs to the agent's local endpoint. */
export const TracePush = z.strictObject({
    group: TraceGroup,
    samples: z.array(z.strictObject({ name: TraceName, value: z.number(), ts: z.optional(z.number().check(z.int(), z.nonnegative())), labels: z.optional(Labels) })).check(z.minLength(1), z.maxLength(1000)),
  });
export type TracePush = z.infer<typeof TracePush>;

export const AggFn = z.enum(['avg', 'min', 'max', 'last', 'sum', 'count']);
export type AggFn = z.infer<typeof AggFn>;

/** One aligned series: `points[i]` is the bucket starting at `from + i * step` (null = no data). */
export const SeriesView = z.object({
  labels: z.record(z.string(), z.string()),
  points: z.array(z.tuple([z.number(), z.nullable(z.number())])),
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

export const MetricInfo = z.object({ metric: z.string(), series: z.number(), labels: z.array(z.record(z.string(), z.string())), lastTs: z.nullable(z.number()) });
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
