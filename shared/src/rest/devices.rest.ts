import * as z from '../zod.js';
import { DevicePatch, DeviceView } from '../messages/device.js';
import { PingResult } from '../messages/api.js';
import { HwChannel, HwClickBody, HwKeyBody, HwPowerBody, HwPrintBody, HwPulseBody, HwSerialExchangeBody, HwSwitchBody, InfoField } from '../messages/hardware.js';
import { RpcMethods } from '../messages/rpc.js';
import { ExecuteBody, PowCallBody, ProcSignalBody } from '../messages/processes.js';
import { TelemetryQueryResult, MetricList, TelemetrySnapshotParams, TraceGroup, LatestResult, MetricName } from '../messages/telemetry.js';
import { DeviceIdParam, NoContent, RawText, route, SIGNED_IN } from './route.js';

const dev = { id: DeviceIdParam };
const Flag = z.enum(['true', 'false']);

/**
 * `after` and `limit` page the list in name order: up to `limit` devices whose name sorts after
 * `after` (the last name of the previous page); a shorter page is the last. Without `limit` the
 * whole list comes in one answer, as it always did.
 */
export const DevicesListQuery = z.object({
  tag: z.optional(z.string()),
  online: z.optional(Flag),
  after: z.optional(z.string().check(z.minLength(1), z.maxLength(253))).check(z.describe('the last device name of the previous page')),
  limit: z.optional(z.coerce.number().check(z.int(), z.gte(1), z.lte(10_000))).check(z.describe('page size')),
});
/** `?fields=a,b`: info fields, comma separated. */
export const HwInfoQuery = z.object({ fields: z.pipe(z.pipe(z.optional(z.string()), z.transform((v) => (v === undefined ? undefined : v.split(',').map((f) => f.trim())))), z.optional(z.array(InfoField))) });
export const HwLogQuery = z.object({ seek: z.optional(z.coerce.number().check(z.gte(0))), after: z.optional(z.coerce.number().check(z.int())), limit: z.optional(z.coerce.number().check(z.int(), z.gte(1), z.lte(10_000))) });
export const ClearQuery = z.object({ clear: z.pipe(z.optional(z.string()), z.transform((v) => v === 'true')) });

/** `/api/devices` and the device's own Edgehook API (hardware, processes, telemetry). */
export const DeviceRoutes = {
  deviceList: route({ method: 'GET', path: '/api/devices', summary: 'Devices in name order (filter by tag, online; page with after, limit)', tag: 'devices', auth: SIGNED_IN, permission: 'devices.read', query: DevicesListQuery, result: z.array(DeviceView) }),
  deviceGet: route({ method: 'GET', path: '/api/devices/:id', summary: 'A device by id or name', tag: 'devices', auth: SIGNED_IN, permission: 'devices.read', device: 'any', params: dev, result: DeviceView }),
  deviceUpdate: route({ method: 'PATCH', path: '/api/devices/:id', summary: 'Rename or re-tag a device', tag: 'devices', auth: SIGNED_IN, permission: 'devices.write', device: 'any', params: dev, body: DevicePatch, result: DeviceView }),
  deviceDelete: route({ method: 'DELETE', path: '/api/devices/:id', summary: 'Delete a device (revokes its credentials)', tag: 'devices', auth: SIGNED_IN, permission: 'devices.delete', device: 'any', params: dev, result: NoContent, resultKind: 'empty', status: 204 }),
  devicePing: route({ method: 'POST', path: '/api/devices/:id/ping', summary: 'Round trip to the agent', tag: 'devices', auth: SIGNED_IN, permission: 'devices.ping', device: 'online', params: dev, result: PingResult }),

  hwSnapshot: route({ method: 'GET', path: '/api/devices/:id/hardware', summary: 'GPIO, ATX, HID state in one', tag: 'hardware', auth: SIGNED_IN, permission: 'devices.hardware.read', device: 'online', params: dev, result: RpcMethods['hw.snapshot'].result }),
  hwInfo: route({ method: 'GET', path: '/api/devices/:id/hardware/info', summary: 'System and hardware info', tag: 'hardware', auth: SIGNED_IN, permission: 'devices.hardware.read', device: 'online', params: dev, query: HwInfoQuery, result: RpcMethods.info.result }),
  hwLog: route({ method: 'GET', path: '/api/devices/:id/hardware/log', summary: 'The agent log', tag: 'hardware', auth: SIGNED_IN, permission: 'devices.hardware.read', device: 'online', params: dev, query: HwLogQuery, result: RpcMethods.log.result }),
  gpioState: route({ method: 'GET', path: '/api/devices/:id/hardware/gpio', summary: 'GPIO model and state', tag: 'hardware', auth: SIGNED_IN, permission: 'devices.hardware.read', device: 'online', params: dev, result: RpcMethods['gpio.state'].result }),
  gpioSwitch: route({ method: 'POST', path: '/api/devices/:id/hardware/gpio/:channel/switch', summary: 'Switch a GPIO output', tag: 'hardware', auth: SIGNED_IN, permission: 'devices.hardware.write', device: 'online', params: { ...dev, channel: HwChannel.check(z.describe('channel')) }, body: HwSwitchBody, result: RpcMethods['gpio.switch'].result }),
  gpioPulse: route({ method: 'POST', path: '/api/devices/:id/hardware/gpio/:channel/pulse', summary: 'Pulse a GPIO output', tag: 'hardware', auth: SIGNED_IN, permission: 'devices.hardware.write', device: 'online', params: { ...dev, channel: HwChannel.check(z.describe('channel')) }, body: HwPulseBody, result: RpcMethods['gpio.pulse'].result }),
  atxState: route({ method: 'GET', path: '/api/devices/:id/hardware/atx', summary: 'ATX LEDs and buttons', tag: 'hardware', auth: SIGNED_IN, permission: 'devices.hardware.read', device: 'online', params: dev, result: RpcMethods['atx.state'].result }),
  atxPower: route({ method: 'POST', path: '/api/devices/:id/hardware/atx/power', summary: 'ATX power on/off/reset', tag: 'hardware', auth: SIGNED_IN, permission: 'devices.power', device: 'online', params: dev, body: HwPowerBody, result: RpcMethods['atx.power'].result }),
  atxClick: route({ method: 'POST', path: '/api/devices/:id/hardware/atx/click', summary: 'Press an ATX button', tag: 'hardware', auth: SIGNED_IN, permission: 'devices.power', device: 'online', params: dev, body: HwClickBody, result: RpcMethods['atx.click'].result }),
  hidState: route({ method: 'GET', path: '/api/devices/:id/hardware/hid', summary: 'HID state', tag: 'hardware', auth: SIGNED_IN, permission: 'devices.hardware.read', device: 'online', params: dev, result: RpcMethods['hid.state'].result }),
  hidKey: route({ method: 'POST', path: '/api/devices/:id/hardware/hid/key', summary: 'Press or release a key', tag: 'hardware', auth: SIGNED_IN, permission: 'devices.hardware.write', device: 'online', params: dev, body: HwKeyBody, result: RpcMethods['hid.key'].result }),
  hidPrint: route({ method: 'POST', path: '/api/devices/:id/hardware/hid/print', summary: 'Type text', tag: 'hardware', auth: SIGNED_IN, permission: 'devices.hardware.write', device: 'online', params: dev, body: HwPrintBody, result: RpcMethods['hid.print'].result }),
  hidRelease: route({ method: 'POST', path: '/api/devices/:id/hardware/hid/release', summary: 'Release every key and button', tag: 'hardware', auth: SIGNED_IN, permission: 'devices.hardware.write', device: 'online', params: dev, result: RpcMethods['hid.releaseAll'].result }),
  hidReports: route({ method: 'GET', path: '/api/devices/:id/hardware/hid/reports', summary: 'Keyboard reports written (hex)', tag: 'hardware', auth: SIGNED_IN, permission: 'devices.hardware.read', device: 'online', params: dev, query: ClearQuery, result: RpcMethods['hid.reports'].result }),
  hidMouseReports: route({ method: 'GET', path: '/api/devices/:id/hardware/hid/mouse-reports', summary: 'Mouse reports written (hex)', tag: 'hardware', auth: SIGNED_IN, permission: 'devices.hardware.read', device: 'online', params: dev, query: ClearQuery, result: RpcMethods['hid.mouseReports'].result }),
  i2c: route({ method: 'GET', path: '/api/devices/:id/hardware/i2c', summary: 'I2C sensor readings', tag: 'hardware', auth: SIGNED_IN, permission: 'devices.hardware.read', device: 'online', params: dev, result: RpcMethods['i2c.read'].result }),
  serialList: route({ method: 'GET', path: '/api/devices/:id/hardware/serial', summary: 'Serial ports', tag: 'hardware', auth: SIGNED_IN, permission: 'devices.hardware.read', device: 'online', params: dev, result: RpcMethods['serial.list'].result }),
  serialExchange: route({ method: 'POST', path: '/api/devices/:id/hardware/serial/:port/exchange', summary: 'Write to a serial port and read the answer', tag: 'hardware', auth: SIGNED_IN, permission: 'devices.hardware.write', device: 'online', params: { ...dev, port: HwChannel.check(z.describe('port')) }, body: HwSerialExchangeBody, result: RpcMethods['serial.exchange'].result }),

  execute: route({ method: 'POST', path: '/api/devices/:id/processes', summary: 'Quix execute: run an argv (never a shell string)', tag: 'processes', auth: SIGNED_IN, permission: 'devices.exec.arbitrary', device: 'online', params: dev, body: ExecuteBody, result: z.object({ result: z.literal('success'), proc_id: z.number().check(z.int()), id: z.string() }), status: 201 }),
  processList: route({ method: 'GET', path: '/api/devices/:id/processes', summary: 'Quix view_running', tag: 'processes', auth: SIGNED_IN, permission: 'devices.exec', device: 'online', params: dev, result: RpcMethods['processes.list'].result }),
  processSignal: route({ method: 'POST', path: '/api/devices/:id/processes/signal', summary: 'Quix proc_signal (processes the agent started only)', tag: 'processes', auth: SIGNED_IN, permission: 'devices.exec', device: 'online', params: dev, body: ProcSignalBody, result: z.object({ result: z.literal('success') }) }),
  processStatus: route({ method: 'GET', path: '/api/devices/:id/processes/:procId', summary: "An executed process's output and result", tag: 'processes', auth: SIGNED_IN, permission: 'devices.exec', device: 'online', params: { ...dev, procId: z.string().check(z.minLength(1), z.maxLength(64), z.describe('process id')) }, result: RpcMethods['processes.status'].result }),

  telemetryQuery: route({ method: 'GET', path: '/api/devices/:id/telemetry', summary: 'One metric over time (metric, from, to, step, agg, label=k=v)', tag: 'telemetry', auth: SIGNED_IN, permission: 'telemetry.read', device: 'any', params: dev, query: z.object({ metric: MetricName, from: z.optional(z.string()), to: z.optional(z.string()), step: z.optional(z.string()), agg: z.optional(z.string()), label: z.optional(z.union([z.string(), z.array(z.string())])) }), result: TelemetryQueryResult }),
  telemetryMetrics: route({ method: 'GET', path: '/api/devices/:id/telemetry/metrics', summary: 'The metrics a device reports', tag: 'telemetry', auth: SIGNED_IN, permission: 'telemetry.read', device: 'any', params: dev, result: MetricList }),
  telemetrySnapshot: route({ method: 'POST', path: '/api/devices/:id/telemetry/snapshot', summary: 'Quix telemetry: a snapshot from the device now', tag: 'telemetry', auth: SIGNED_IN, permission: 'telemetry.read', device: 'any', params: dev, body: TelemetrySnapshotParams, result: RpcMethods.telemetry.result }),
  devicePrometheus: route({ method: 'GET', path: '/api/devices/:id/export/prometheus/metrics', summary: "One device's metrics, Prometheus text format", tag: 'telemetry', auth: SIGNED_IN, permission: 'telemetry.read', device: 'any', params: dev, result: RawText, resultKind: 'text' }),
  traceGroups: route({ method: 'GET', path: '/api/devices/:id/traces', summary: 'Trace groups (custom series trace.<group>.<name>)', tag: 'telemetry', auth: SIGNED_IN, permission: 'telemetry.read', device: 'any', params: dev, result: z.object({ device: z.object({ id: z.string(), name: z.string() }), groups: z.array(z.object({ group: z.string(), series: z.array(z.string()), lastTs: z.nullable(z.number()) })) }) }),
  traceGet: route({ method: 'GET', path: '/api/devices/:id/traces/:group', summary: "A trace group's points", tag: 'telemetry', auth: SIGNED_IN, permission: 'telemetry.read', device: 'any', params: { ...dev, group: TraceGroup.check(z.describe('trace group')) }, query: z.object({ from: z.optional(z.string()), to: z.optional(z.string()), limit: z.optional(z.string()) }), result: z.object({ device: z.object({ id: z.string(), name: z.string() }), group: z.string(), from: z.number(), to: z.number(), series: z.array(z.object({ name: z.string(), labels: z.record(z.string(), z.string()), points: z.array(z.tuple([z.number(), z.number()])) })) }) }),
  telemetryStats: route({ method: 'GET', path: '/api/telemetry/stats', summary: "This replica's ingest counters", tag: 'telemetry', auth: SIGNED_IN, permission: 'telemetry.read', result: z.catchall(z.object({ devices: z.number(), metrics: z.number() }), z.unknown()) }),
  telemetryLatest: route({ method: 'GET', path: '/api/telemetry/latest', summary: 'Latest value per device for one metric', tag: 'telemetry', auth: SIGNED_IN, permission: 'telemetry.read', query: z.object({ metric: z.string(), sort: z.optional(z.enum(['asc', 'desc'])), limit: z.optional(z.string()), tag: z.optional(z.string()), label: z.optional(z.union([z.string(), z.array(z.string())])) }), result: LatestResult }),
  fleetPrometheus: route({ method: 'GET', path: '/api/export/prometheus/metrics', summary: 'The fleet as one Prometheus scrape target (filter by device, tag)', tag: 'telemetry', auth: SIGNED_IN, permission: 'telemetry.read', query: z.object({ device: z.optional(z.string()), tag: z.optional(z.string()) }), result: RawText, resultKind: 'text' }),
} as const;

/**
 * pow-1's REST mirror (FAU-CDI/process_over_websocket `internal/rest_impl`), per device: the Go
 * server's paths and shapes, errors as text/plain.
 */
export const PowRoutes = {
  powActions: route({ method: 'GET', path: '/api/devices/:id/pow/actions', summary: 'The declared actions and their parameter rules', tag: 'pow-1', auth: SIGNED_IN, permission: 'devices.exec', device: 'online', errors: 'pow-text', params: dev, result: RpcMethods['processes.actions'].result }),
  powNew: route({ method: 'POST', path: '/api/devices/:id/pow/new', summary: 'Create A New Process', tag: 'pow-1', auth: SIGNED_IN, permission: 'devices.exec', device: 'online', errors: 'pow-text', params: dev, body: PowCallBody, result: z.string().check(z.describe('ID of the process created. Used for subsequent requests')) }),
  powStatus: route({ method: 'GET', path: '/api/devices/:id/pow/status/:pid', summary: 'Get Process Status', tag: 'pow-1', auth: SIGNED_IN, permission: 'devices.exec', device: 'online', errors: 'pow-text', params: { ...dev, pid: z.string().check(z.describe('ID of process')) }, result: z.object({ result: z.union([z.object({ status: z.literal('fulfilled'), value: z.optional(z.unknown()) }), z.object({ status: z.literal('rejected'), reason: z.string() }), z.object({ status: z.literal('pending') })]), buffer: z.optional(z.string()) }) }),
  powInput: route({ method: 'POST', path: '/api/devices/:id/pow/input/:pid', summary: 'Pass Input To Ongoing Process', tag: 'pow-1', auth: SIGNED_IN, permission: 'devices.exec', device: 'online', errors: 'pow-text', params: { ...dev, pid: z.string().check(z.describe('ID of process')) }, body: RawText, bodyKind: 'text', result: z.literal('input sent'), resultKind: 'text' }),
  powCloseInput: route({ method: 'POST', path: '/api/devices/:id/pow/closeInput/:pid', summary: 'Close Input Of Ongoing Process', tag: 'pow-1', auth: SIGNED_IN, permission: 'devices.exec', device: 'online', errors: 'pow-text', params: { ...dev, pid: z.string().check(z.describe('ID of process')) }, result: z.literal('input closed'), resultKind: 'text' }),
  powCancel: route({ method: 'POST', path: '/api/devices/:id/pow/cancel/:pid', summary: 'Cancel ongoing process', tag: 'pow-1', auth: SIGNED_IN, permission: 'devices.exec', device: 'online', errors: 'pow-text', params: { ...dev, pid: z.string().check(z.describe('ID of process')) }, result: z.literal('process cancelled'), resultKind: 'text' }),
  powOpenapi: route({ method: 'GET', path: '/api/devices/:id/pow/openapi.json', summary: "The mirror's OpenAPI document, shaped like the Go server's", tag: 'pow-1', auth: SIGNED_IN, permission: 'devices.exec', device: 'any', errors: 'pow-text', params: dev, result: z.record(z.string(), z.unknown()) }),
} as const;
