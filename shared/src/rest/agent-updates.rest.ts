import * as z from '../zod.js';
import { AgentPackageList, AgentPackageView, AgentUpdateBody, AgentUpdateOutcome, AgentVersion } from '../messages/agent-updates.js';
import { ANONYMOUS, DeviceIdParam, RawBytes, route, SIGNED_IN } from './route.js';

const version = { version: AgentVersion.check(z.describe('agent version')) };

/** Agent packages by version, and updates of one device's agent (docs/agent-updates.md). */
export const AgentUpdateRoutes = {
  agentPackageList: route({ method: 'GET', path: '/api/agent/packages', summary: 'Published agent packages (newest first) and the signing key', tag: 'agent-updates', auth: SIGNED_IN, permission: 'devices.read', result: AgentPackageList }),
  agentPackagePublish: route({ method: 'PUT', path: '/api/agent/packages/:version', summary: 'Publish an agent package (the edgehook-agent.tgz as the body, at most 64 MiB)', tag: 'agent-updates', auth: SIGNED_IN, permission: 'agent.publish', params: version, body: RawBytes, bodyKind: 'binary', result: AgentPackageView, status: 201 }),
  agentPackageDownload: route({ method: 'GET', path: '/downloads/agent/:version/edgehook-agent.tgz', summary: 'An agent package by version', tag: 'install', auth: ANONYMOUS, permission: null, params: version, result: RawBytes, resultKind: 'binary' }),
  agentUpdate: route({ method: 'POST', path: '/api/devices/:id/agent/update', summary: "Update the device's agent (waits for the new version's health check; rolls back on failure)", tag: 'agent-updates', auth: SIGNED_IN, permission: 'devices.update', device: 'online', params: { id: DeviceIdParam }, body: AgentUpdateBody, result: AgentUpdateOutcome }),
} as const;
