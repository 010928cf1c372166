import * as z from '../zod.js';
import { DeviceDescription } from './device.js';
import { TelemetrySnapshot, TelemetrySnapshotParams } from './telemetry.js';
import { hardwareRpcDefinitions } from './hardware.js';
import { containerRpcDefinitions } from './containers.js';
import { hidRpcDefinitions } from './hid.js';
import { kvmMediaRpcDefinitions } from './kvm-media.js';
import { ProcessInputParams, ProcessRef, ProcessSignalParams, ProcessStartParams, ProcessStartResult, ProcessStatusResult, RunningProcess } from './processes.js';
import { ActionList } from './processes.js';
import { agentUpdateRpcDefinitions } from './agent-updates.js';
import { VpnAgentStatus, VpnApplyParams, VpnKeyParams, VpnKeyResult } from './vpn.js';
import { perfkitRpcDefinitions } from './perfkit.js';
import { ProcessRunParams, ProcessRunResult } from './jobs.js';

/**
 * Control plane -> device calls. Each method has one params and one result schema;
 * the agent validates params, the control plane validates results.
 */
const definitions = {
  ping: {
    params: z.strictObject({ sentAt: z.number() }),
    result: z.object({ sentAt: z.number(), agentTime: z.number() }),
  },
  'system.describe': {
    params: z.strictObject({}),
    result: DeviceDescription,
  },
  // The Quix `telemetry` request: a snapshot of the given stat types (messages/telemetry.ts).
  telemetry: { params: TelemetrySnapshotParams, result: TelemetrySnapshot },
  // Hardware: GPIO, ATX, HID, serial, I2C, info, log (messages/hardware.ts).
  ...hardwareRpcDefinitions,
  // Mouse, shortcuts and HID settings (messages/hid.ts); the screen and virtual media (messages/kvm-media.ts).
  ...hidRpcDefinitions,
  ...kvmMediaRpcDefinitions,
  // Containers, declared servers and their files (messages/containers.ts).
  ...containerRpcDefinitions,
  // Perfkit sessions: interactions with a session's images (messages/perfkit.ts).
  ...perfkitRpcDefinitions,
  // Processes without a live stream (pow-1 REST mirror, Quix execute/view_running/proc_signal).
  'processes.start': { params: ProcessStartParams, result: ProcessStartResult },
  'processes.status': { params: ProcessRef, result: ProcessStatusResult },
  'processes.input': { params: ProcessInputParams, result: z.object({}) },
  'processes.closeInput': { params: ProcessRef, result: z.object({}) },
  'processes.cancel': { params: ProcessRef, result: z.object({}) },
  'processes.list': { params: z.strictObject({}), result: z.array(RunningProcess) },
  'processes.signal': { params: ProcessSignalParams, result: z.object({}) },
  'processes.actions': { params: z.strictObject({}), result: ActionList },
  // Agent self-update with rollback (messages/agent-updates.ts).
  ...agentUpdateRpcDefinitions,
  // WireGuard (messages/vpn.ts): the device's public key, the tunnel's config (no private key), its state.
  'vpn.key': { params: VpnKeyParams, result: VpnKeyResult },
  'vpn.apply': { params: VpnApplyParams, result: VpnAgentStatus },
  'vpn.status': { params: z.strictObject({}), result: VpnAgentStatus },
  // A process run to its end in one call (jobs): the request id makes a redelivery run it once.
  'processes.run': { params: ProcessRunParams, result: ProcessRunResult },
} as const;

type Definitions = typeof definitions;
export type RpcMethod = keyof Definitions;
export type RpcParams<M extends RpcMethod> = z.input<Definitions[M]['params']>;
export type RpcParamsParsed<M extends RpcMethod> = z.output<Definitions[M]['params']>;
export type RpcResult<M extends RpcMethod> = z.output<Definitions[M]['result']>;

// The mapped type lets generic code index by method name and keep the types.
export const RpcMethods: { [M in RpcMethod]: { params: z.ZodMiniType<RpcParamsParsed<M>>; result: z.ZodMiniType<RpcResult<M>> } } = definitions;

export function isRpcMethod(name: string): name is RpcMethod {
  return Object.hasOwn(RpcMethods, name);
}

export const RpcRequest = z.object({
  id: z.string().check(z.minLength(1), z.maxLength(64)),
  method: z.string().check(z.minLength(1), z.maxLength(64)),
  params: z.unknown(),
  /** Epoch ms after which the caller has given up: the agent skips work that arrives later. */
  deadline: z.number().check(z.int(), z.nonnegative()),
});
export type RpcRequest = z.infer<typeof RpcRequest>;

export const RpcErrorBody = z.object({ code: z.string().check(z.maxLength(64)), message: z.string().check(z.maxLength(2000)), details: z.optional(z.unknown()) });

export const RpcResponse = z.discriminatedUnion('ok', [
  z.object({ id: z.string().check(z.minLength(1), z.maxLength(64)), ok: z.literal(true), result: z.unknown() }),
  z.object({ id: z.string().check(z.minLength(1), z.maxLength(64)), ok: z.literal(false), error: RpcErrorBody }),
]);
export type RpcResponse = z.infer<typeof RpcResponse>;

