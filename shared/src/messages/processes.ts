import * as z from '../zod.js';
import { ProcessOpenSpec, StreamResult } from './streams.js';

/** Process calls that do not hold a stream open: the pow-1 REST mirror and Quix `execute`. */

export const ProcessSignalName = z.enum(['SIGTERM', 'SIGKILL', 'SIGHUP', 'SIGINT']);
export type ProcessSignalName = z.infer<typeof ProcessSignalName>;

/** One process the agent started (Quix `view_running` entry, with our extra fields). */
export const RunningProcess = z.object({
  id: z.string(),
  pid: z.number().check(z.int()),
  title: z.string(),
  reqc: z.string(),
  cpu_util: z.number(),
  /** Resident memory of the process group in MB (as Quix reports it, despite the name). */
  mem_util: z.number(),
  /** The same as a percent of the device's memory (absent from agents before 0.1.1). */
  mem_percent: z.optional(z.number()),
  port_util: z.array(z.number().check(z.int())),
  startedAt: z.number(),
  kind: z.enum(['action', 'arbitrary']),
});
export type RunningProcess = z.infer<typeof RunningProcess>;

/**
 * `rejectInvalid`: an unknown call or invalid params still get an id, whose status is rejected
 * (as the pow-1 Go server's REST `/new` does), instead of an error.
 */
export const ProcessStartParams = z.strictObject({ spec: ProcessOpenSpec, rejectInvalid: z.optional(z.boolean()) });

/** Cancel reasons in the pow-1 Go server's words (proto.ErrCancelClientRequest, ErrCancelClientGone). */
export const PowCancelReasons = { clientRequest: 'client requested cancellation', clientGone: 'client has gone away' } as const;
export const ProcessStartResult = z.object({ id: z.string(), pid: z.number().check(z.int()) });

export const ProcessRef = z.strictObject({ id: z.string().check(z.minLength(1), z.maxLength(64)) });

export const ProcessStatusResult = z.object({
  result: z.union([StreamResult, z.object({ status: z.literal('pending') })]),
  buffer: z.string(),
  /** True when output beyond the kept tail was dropped. */
  truncated: z.boolean(),
});
export type ProcessStatusResult = z.infer<typeof ProcessStatusResult>;

export const ProcessInputParams = z.strictObject({ id: z.string().check(z.minLength(1), z.maxLength(64)), data: z.string().check(z.maxLength(1024 * 1024)) });
export const ProcessSignalParams = z.strictObject({ pid: z.number().check(z.int(), z.positive()), signal: z._default(ProcessSignalName, 'SIGTERM') });

/** REST bodies. */
export const ExecuteBody = z.strictObject({ cmd: z.array(z.string().check(z.maxLength(65536))).check(z.minLength(1), z.maxLength(1024)), cwd: z.optional(z.string().check(z.maxLength(4096))), env: z.optional(z.record(z.string(), z.string())) });
export const PowCallBody = z.object({ call: z.string().check(z.minLength(1), z.maxLength(128)), params: z._default(z.array(z.string().check(z.maxLength(65536))).check(z.maxLength(256)), []) });
export const ProcSignalBody = z.strictObject({ pid: z.number().check(z.int(), z.positive()), mode: z._default(ProcessSignalName, 'SIGTERM') });

/** A declared action as operators see it (`processes.actions`): never its command, env or cwd. */
export const ActionInfo = z.object({
  name: z.string(),
  description: z.optional(z.string()),
  params: z.object({ min: z.number().check(z.int(), z.gte(0)), max: z.number().check(z.int(), z.gte(0)), pattern: z.optional(z.string()) }),
  timeoutMs: z.optional(z.number().check(z.int(), z.positive())),
});
export type ActionInfo = z.infer<typeof ActionInfo>;
export const ActionList = z.array(ActionInfo);
