import { z } from 'zod';

/**
 * The parts of the Docker Engine API's JSON that the runtime reads, validated (engines differ:
 * Podman leaves out or nulls fields Docker always sends, so almost everything is optional).
 */
const Labels = z.record(z.string(), z.string()).nullish().transform((v) => v ?? {});
const PortBinding = z.object({ HostIp: z.string().nullish(), HostPort: z.string().nullish() });
const PortMap = z.record(z.string(), z.array(PortBinding).nullish()).nullish();

export const InspectJson = z.object({
  Id: z.string(),
  Name: z.string().default(''),
  Created: z.string().default(''),
  Image: z.string().default(''),
  State: z.object({
    Status: z.string().default('created'),
    ExitCode: z.number().default(0),
    StartedAt: z.string().nullish(),
    FinishedAt: z.string().nullish(),
  }),
  Config: z.object({ Image: z.string().nullish(), Tty: z.boolean().nullish(), Labels, ExposedPorts: z.record(z.string(), z.unknown()).nullish() }).nullish(),
  HostConfig: z.object({ PortBindings: PortMap }).nullish(),
});
export type InspectJson = z.infer<typeof InspectJson>;

export const ListJson = z.array(
  z.object({
    Id: z.string(),
    Names: z.array(z.string()).nullish(),
    Status: z.string().nullish(),
  }),
);

const CpuStats = z.object({
  cpu_usage: z.object({ total_usage: z.number().default(0) }).default({ total_usage: 0 }),
  system_cpu_usage: z.number().optional(),
  online_cpus: z.number().optional(),
});
export const StatsJson = z.object({
  read: z.string().default(''),
  cpu_stats: CpuStats.default({ cpu_usage: { total_usage: 0 } }),
  precpu_stats: CpuStats.default({ cpu_usage: { total_usage: 0 } }),
  memory_stats: z
    .object({ usage: z.number().optional(), limit: z.number().optional(), stats: z.record(z.string(), z.number()).optional() })
    .default({}),
  networks: z.record(z.string(), z.object({ rx_bytes: z.number().default(0), tx_bytes: z.number().default(0) })).nullish().transform((v) => v ?? undefined),
});

export const EventJson = z.object({
  Type: z.string().optional(),
  Action: z.string().optional(),
  status: z.string().optional(),
  id: z.string().optional(),
  Actor: z.object({ ID: z.string().optional(), Attributes: z.record(z.string(), z.string()).nullish() }).optional(),
  time: z.number().optional(),
  timeNano: z.number().optional(),
});

export const VersionJson = z.object({
  Version: z.string().default('unknown'),
  ApiVersion: z.string().default('unknown'),
  Components: z.array(z.object({ Name: z.string() })).nullish(),
});

/** Pull progress lines; a line with `error` means the pull failed even though the status was 200. */
/** One line of `/images/create` (Docker's JSONMessage): per-layer status with `id`, or an error. */
export const PullLine = z.object({
  status: z.string().max(1000).optional(),
  id: z.string().max(256).optional(),
  progressDetail: z.object({ current: z.number().nonnegative().optional(), total: z.number().nonnegative().optional() }).partial().optional(),
  error: z.string().optional(),
  errorDetail: z.object({ message: z.string().optional() }).optional(),
});
export type PullLine = z.infer<typeof PullLine>;
