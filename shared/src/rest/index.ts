import { CoreRoutes } from './core.rest.js';
import { DeviceRoutes, PowRoutes } from './devices.rest.js';
import { ContainerRoutes } from './containers.rest.js';
import { KvmRoutes } from './kvm.rest.js';
import { EncedeusRoutes } from './encedeus.rest.js';
import { AgentUpdateRoutes } from './agent-updates.rest.js';
import { VpnRoutes } from './vpn.rest.js';
import { PerfkitRoutes } from './perfkit.rest.js';
import { ForwardRoutes } from './forward.rest.js';
import { JobRoutes } from './jobs.rest.js';
import type { RouteSpec } from './route.js';

export * from './route.js';
export * from './core.rest.js';
export * from './devices.rest.js';
export * from './containers.rest.js';
export * from './kvm.rest.js';
export * from './encedeus.rest.js';
export * from './agent-updates.rest.js';
export * from './vpn.rest.js';
export * from './perfkit.rest.js';
export * from './forward.rest.js';
export * from './jobs.rest.js';

/**
 * Every REST route Edgehook answers, with its schemas, auth and permission, as `Topics` is for
 * MQTT. Handlers mount entries of it (control-plane/src/http/rest-route.ts), the OpenAPI
 * document is generated from it, and a test fails when a mounted route is missing here.
 */
export const RestRoutes = { ...CoreRoutes, ...DeviceRoutes, ...PowRoutes, ...ContainerRoutes, ...KvmRoutes, ...EncedeusRoutes, ...AgentUpdateRoutes, ...VpnRoutes, ...PerfkitRoutes, ...ForwardRoutes, ...JobRoutes } as const;
export type RestRouteName = keyof typeof RestRoutes;
export type RestRoute<N extends RestRouteName> = (typeof RestRoutes)[N];

// Keeps the map honest at compile time: every entry is a RouteSpec.
const _check: Readonly<Record<string, RouteSpec>> = RestRoutes;
void _check;
