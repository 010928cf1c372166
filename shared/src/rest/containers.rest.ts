import * as z from '../zod.js';
import { ApplyResult, ContainerRef, ContainerSpec, DeclaredServer, DeclaredServers, FilePath, PlanStep, PowerAction, ServerName, ServersPutBody } from '../messages/containers.js';
import { RpcMethods } from '../messages/rpc.js';
import { DeviceIdParam, NoContent, RawBytes, route, SIGNED_IN } from './route.js';

const dev = { id: DeviceIdParam };
const ref = { ...dev, ref: ContainerRef.check(z.describe('container reference')) };
const server = { ...dev, name: ServerName.check(z.describe('server name')) };
const Bool01 = z.enum(['0', '1', 'true', 'false']);

export const ContainerCreateBody = z.strictObject({ spec: ContainerSpec, start: z._default(z.boolean(), false) });
export const ContainerPowerBody = z.strictObject({ action: PowerAction, timeoutSec: z.optional(z.number().check(z.int(), z.gte(0), z.lte(3600))), signal: z.optional(z.string().check(z.regex(/^SIG[A-Z0-9]{1,10}$/, 'a signal name like SIGTERM'))), wait: z._default(z.boolean(), true) });
export const ContainerLogsQuery = z.object({ tail: z._default(z.coerce.number().check(z.int(), z.gte(0), z.lte(10_000)), 100), follow: z.pipe(z._default(Bool01, '0'), z.transform((v) => v === '1' || v === 'true')) });
export const ContainerForceQuery = z.object({ force: z.pipe(z._default(Bool01, '0'), z.transform((v) => v === '1' || v === 'true')) });
export const ContainerListQuery = z.object({ all: z.pipe(z.optional(z.string()), z.transform((v) => v !== '0')) });
export const DryRunQuery = z.object({ dryRun: z.pipe(z.optional(z.string()), z.transform((v) => v === 'true' || v === '1')) });
export const FilePathQuery = z.object({ path: FilePath });
export const FileListQuery = z.object({ path: z._default(FilePath, '/') });

/** A device's declared set as stored (`GET /servers`). */
export const DeclaredSetView = z.object({
  servers: DeclaredServers,
  revision: z.number(),
  updatedAt: z.nullable(z.string()),
  updatedBy: z.nullable(z.string()),
  lastApply: z.nullable(z.object({ revision: z.number(), at: z.string(), result: ApplyResult })),
});
/** What a change to the declared set answers: applied, pending (offline, 202) or a dry run's plan. */
export const ServersChange = z.object({
  revision: z.optional(z.number()),
  servers: DeclaredServers,
  apply: z.optional(z.nullable(ApplyResult)),
  plan: z.optional(z.nullable(z.array(PlanStep))),
  pending: z.optional(z.string()),
  dryRun: z.optional(z.literal(true)),
});
export const ConsoleTokenResult = z.object({ data: z.object({ token: z.string(), socket: z.string(), expiresInMs: z.number() }) });
const FileOk = z.object({ ok: z.literal(true) });

/** Containers, declared servers and their files on one device. */
export const ContainerRoutes = {
  engine: route({ method: 'GET', path: '/api/devices/:id/engine', summary: 'The container engine', tag: 'containers', auth: SIGNED_IN, permission: 'containers.read', device: 'online', params: dev, result: RpcMethods['containers.engine'].result }),
  containerList: route({ method: 'GET', path: '/api/devices/:id/containers', summary: 'Containers (?all=0: running only)', tag: 'containers', auth: SIGNED_IN, permission: 'containers.read', device: 'online', params: dev, query: ContainerListQuery, result: RpcMethods['containers.list'].result }),
  containerCreate: route({ method: 'POST', path: '/api/devices/:id/containers', summary: 'Create a container', tag: 'containers', auth: SIGNED_IN, permission: 'containers.control', device: 'online', params: dev, body: ContainerCreateBody, result: RpcMethods['containers.create'].result, status: 201 }),
  containerInspect: route({ method: 'GET', path: '/api/devices/:id/containers/:ref', summary: 'A container', tag: 'containers', auth: SIGNED_IN, permission: 'containers.read', device: 'online', params: ref, result: RpcMethods['containers.inspect'].result }),
  containerRemove: route({ method: 'DELETE', path: '/api/devices/:id/containers/:ref', summary: 'Remove a container', tag: 'containers', auth: SIGNED_IN, permission: 'containers.control', device: 'online', params: ref, query: ContainerForceQuery, result: NoContent, resultKind: 'empty', status: 204 }),
  containerPower: route({ method: 'POST', path: '/api/devices/:id/containers/:ref/power', summary: 'Start, stop, restart, kill', tag: 'containers', auth: SIGNED_IN, permission: 'containers.control', device: 'online', params: ref, body: ContainerPowerBody, result: RpcMethods['containers.power'].result }),
  containerLogs: route({ method: 'GET', path: '/api/devices/:id/containers/:ref/logs', summary: 'Log lines (JSON), or with follow=1 raw text as it comes', tag: 'containers', auth: SIGNED_IN, permission: 'containers.read', device: 'online', params: ref, query: ContainerLogsQuery, result: RpcMethods['containers.logs'].result }),
  containerStats: route({ method: 'GET', path: '/api/devices/:id/containers/:ref/stats', summary: 'CPU, memory, network now', tag: 'containers', auth: SIGNED_IN, permission: 'containers.read', device: 'online', params: ref, result: RpcMethods['containers.stats'].result }),
  consoleToken: route({ method: 'GET', path: '/api/devices/:id/containers/:ref/websocket', summary: 'A console token and socket path (Pterodactyl panel shape)', tag: 'containers', auth: SIGNED_IN, permission: 'containers.console', device: 'online', params: ref, result: ConsoleTokenResult }),

  serversGet: route({ method: 'GET', path: '/api/devices/:id/servers', summary: 'The declared set', tag: 'servers', auth: SIGNED_IN, permission: 'containers.read', device: 'any', params: dev, result: DeclaredSetView }),
  serversPut: route({ method: 'PUT', path: '/api/devices/:id/servers', summary: 'Replace the declared set (202 while the device is offline)', tag: 'servers', auth: SIGNED_IN, permission: 'containers.control', device: 'any', params: dev, body: ServersPutBody, result: ServersChange }),
  serversPlan: route({ method: 'POST', path: '/api/devices/:id/servers/plan', summary: 'Dry run of a whole set', tag: 'servers', auth: SIGNED_IN, permission: 'containers.read', device: 'online', params: dev, body: z.strictObject({ servers: DeclaredServers }), result: RpcMethods['servers.plan'].result }),
  serverGet: route({ method: 'GET', path: '/api/devices/:id/servers/:name', summary: 'One declared server', tag: 'servers', auth: SIGNED_IN, permission: 'containers.read', device: 'any', params: server, result: DeclaredServer }),
  serverCreate: route({ method: 'POST', path: '/api/devices/:id/servers', summary: 'Declare a server (?dryRun=true: the plan only)', tag: 'servers', auth: SIGNED_IN, permission: 'containers.control', device: 'any', params: dev, query: DryRunQuery, body: DeclaredServer, result: ServersChange, status: 201 }),
  serverPut: route({ method: 'PUT', path: '/api/devices/:id/servers/:name', summary: "Replace a server's spec", tag: 'servers', auth: SIGNED_IN, permission: 'containers.control', device: 'any', params: server, query: DryRunQuery, body: DeclaredServer, result: ServersChange }),
  serverDelete: route({ method: 'DELETE', path: '/api/devices/:id/servers/:name', summary: 'Remove a server (its data stays)', tag: 'servers', auth: SIGNED_IN, permission: 'containers.control', device: 'any', params: server, query: DryRunQuery, result: ServersChange }),

  fileList: route({ method: 'GET', path: '/api/devices/:id/servers/:name/files', summary: 'A directory of the server data', tag: 'files', auth: SIGNED_IN, permission: 'containers.files', device: 'online', params: server, query: FileListQuery, result: RpcMethods['files.list'].result }),
  fileRename: route({ method: 'POST', path: '/api/devices/:id/servers/:name/files/rename', summary: 'Rename or move', tag: 'files', auth: SIGNED_IN, permission: 'containers.files', device: 'online', params: server, body: z.strictObject({ from: FilePath, to: FilePath }), result: FileOk }),
  fileDelete: route({ method: 'POST', path: '/api/devices/:id/servers/:name/files/delete', summary: 'Delete a file or directory', tag: 'files', auth: SIGNED_IN, permission: 'containers.files', device: 'online', params: server, body: z.strictObject({ path: FilePath }), result: FileOk }),
  fileMkdir: route({ method: 'POST', path: '/api/devices/:id/servers/:name/files/mkdir', summary: 'Create a directory', tag: 'files', auth: SIGNED_IN, permission: 'containers.files', device: 'online', params: server, body: z.strictObject({ path: FilePath }), result: FileOk }),
  fileDownload: route({ method: 'GET', path: '/api/devices/:id/servers/:name/files/content', summary: 'Download a file (streamed)', tag: 'files', auth: SIGNED_IN, permission: 'containers.files', device: 'online', params: server, query: FilePathQuery, result: RawBytes, resultKind: 'binary' }),
  fileUpload: route({ method: 'PUT', path: '/api/devices/:id/servers/:name/files/content', summary: 'Upload a file (streamed; replaces it once complete)', tag: 'files', auth: SIGNED_IN, permission: 'containers.files', device: 'online', params: server, query: FilePathQuery, body: RawBytes, bodyKind: 'binary', result: z.object({ ok: z.literal(true), path: z.string(), bytes: z.number() }), status: 201 }),
} as const;

