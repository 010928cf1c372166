import * as z from '@edgehook/shared/zod';

/**
 * The parts of the Docker Engine API's JSON that the runtime reads, validated (engines differ:
 * Podman leaves out or nulls fields Docker always sends, so almost everything is optional).
 */
const Labels = z.pipe(z.nullish(z.record(z.string(), z.string())), z.transform((v) => v ?? {}));
const PortBinding = z.object({ HostIp: z.nullish(z.string()), HostPort: z.nullish(z.string()) });
const PortMap = z.nullish(z.record(z.string(), z.nullish(z.array(PortBinding))));

export const InspectJson = z.object({
  Id: z.string(),
  Name: z._default(z.string(), ''),
  Created: z._default(z.string(), ''),
  Image: z._default(z.string(), ''),
  State: z.object({
    Status: z._default(z.string(), 'created'),
    ExitCode: z._default(z.number(), 0),
    StartedAt: z.nullish(z.string()),
    FinishedAt: z.nullish(z.string()),
  }),
  Config: z.nullish(z.object({ Image: z.nullish(z.string()), Tty: z.nullish(z.boolean()), Labels, ExposedPorts: z.nullish(z.record(z.string(), z.unknown())) })),
  HostConfig: z.nullish(z.object({ PortBindings: PortMap })),
});
export type InspectJson = z.infer<typeof InspectJson>;

export const ListJson = z.array(
  z.object({
    Id: z.string(),
    Names: z.nullish(z.array(z.string())),
    Status: z.nullish(z.string()),
  }),
);

const CpuStats = z.object({
  cpu_usage: z._default(z.object({ total_usage: z._default(z.number(), 0) }), { total_usage: 0 }),
  system_cpu_usage: z.optional(z.number()),
  online_cpus: z.optional(z.number()),
});
export const StatsJson = z.object({
  read: z._default(z.string(), ''),
  cpu_stats: z._default(CpuStats, { cpu_usage: { total_usage: 0 } }),
  precpu_stats: z._default(CpuStats, { cpu_usage: { total_usage: 0 } }),
  memory_stats: z._default(z.object({ usage: z.optional(z.number()), limit: z.optional(z.number()), stats: z.optional(z.record(z.string(), z.number())) }), {}),
  networks: z.pipe(z.nullish(z.record(z.string(), z.object({ rx_bytes: z._default(z.number(), 0), tx_bytes: z._default(z.number(), 0) }))), z.transform((v) => v ?? undefined)),
});

export const EventJson = z.object({
  Type: z.optional(z.string()),
  Action: z.optional(z.string()),
  status: z.optional(z.string()),
  id: z.optional(z.string()),
  Actor: z.optional(z.object({ ID: z.optional(z.string()), Attributes: z.nullish(z.record(z.string(), z.string())) })),
  time: z.optional(z.number()),
  timeNano: z.optional(z.number()),
});

export const VersionJson = z.object({
  Version: z._default(z.string(), 'unknown'),
  ApiVersion: z._default(z.string(), 'unknown'),
  Components: z.nullish(z.array(z.object({ Name: z.string() }))),
});

/** Pull progress lines; a line with `error` means the pull failed even though the status was 200. */
/** One line of `/images/create` (Docker's JSONMessage): per-layer status with `id`, or an error. */
export const PullLine = z.object({
  status: z.optional(z.string().check(z.maxLength(1000))),
  id: z.optional(z.string().check(z.maxLength(256))),
  progressDetail: z.optional(z.partial(z.object({ current: z.optional(z.number().check(z.nonnegative())), total: z.optional(z.number().check(z.nonnegative())) }))),
  error: z.optional(z.string()),
  errorDetail: z.optional(z.object({ message: z.optional(z.string()) })),
});
export type PullLine = z.infer<typeof PullLine>;
