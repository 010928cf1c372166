import { z } from 'zod';
import { ProcessOpenSpec, StreamResult } from './streams.js';

/** Process calls that do not hold a stream open: the pow-1 REST mirror and Quix `execute`. */

export const ProcessSignalName = z.enum(['SIGTERM', 'SIGKILL', 'SIGHUP', 'SIGINT']);
export type ProcessSignalName = z.infer<typeof ProcessSignalName>;

/** One process the agent started (Quix `view_running` entry, with our extra fields). */
export const RunningProcess = z.object({
  id: z.string(),
  pid: z.number().int(),
  title: z.string(),
  reqc: z.string(),
  cpu_util: z.number(),
  /** Resident memory of the process group in MB (as Quix reports it, despite the name). */
  mem_util: z.number(),
  /** The same as a percent of the device's memory (absent from agents before 0.1.1). */
  mem_percent: z.number().optional(),
  port_util: z.array(z.number().int()),
  startedAt: z.number(),
  kind: z.enum(['action', 'arbitrary']),
});
export type RunningProcess = z.infer<typeof RunningProcess>;

/**
 * `rejectInvalid`: an unknown call or invalid params still get an id, whose status is rejected
 * (as the pow-1 Go server's REST `/new` does), instead of an error.
 */
export const ProcessStartParams = z.object({ spec: ProcessOpenSpec, rejectInvalid: z.boolean().optional() }).strict();

/** Cancel reasons in the pow-1 Go server's words (proto.ErrCancelClientRequest, ErrCancelClientGone). */
export const PowCancelReasons = { clientRequest: 'client requested cancellation', clientGone: 'client has gone away' } as const;
export const ProcessStartResult = z.object({ id: z.string(), pid: z.number().int() });

export const ProcessRef = z.object({ id: z.string().min(1).max(64) }).strict();

export const ProcessStatusResult = z.object({
  result: z.union([StreamResult, z.object({ status: z.literal('pending') })]),
  buffer: z.string(),
  /** True when output beyond the kept tail was dropped. */
  truncated: z.boolean(),
});
export type ProcessStatusResult = z.infer<typeof ProcessStatusResult>;

export const ProcessInputParams = z.object({ id: z.string().min(1).max(64), data: z.string().max(1024 * 1024) }).strict();
export const ProcessSignalParams = z.object({ pid: z.number().int().positive(), signal: ProcessSignalName.default('SIGTERM') }).strict();

/** REST bodies. */
export const ExecuteBody = z.object({ cmd: z.array(z.string().max(65536)).min(1).max(1024), cwd: z.string().max(4096).optional(), env: z.record(z.string(), z.string()).optional() }).strict();
export const PowCallBody = z.object({ call: z.string().min(1).max(128), params: z.array(z.string().max(65536)).max(256).default([]) });
export const ProcSignalBody = z.object({ pid: z.number().int().positive(), mode: ProcessSignalName.default('SIGTERM') }).strict();

/** A declared action as operators see it (`processes.actions`): never its command, env or cwd. */
export const ActionInfo = z.object({
  name: z.string(),
  description: z.string().optional(),
  params: z.object({ min: z.number().int().min(0), max: z.number().int().min(0), pattern: z.string().optional() }),
  timeoutMs: z.number().int().positive().optional(),
});
export type ActionInfo = z.infer<typeof ActionInfo>;
export const ActionList = z.array(ActionInfo);
