
import * as z from '../zod.js';
import { ConfigKey, ConfigPatches, ConfigPatchesQuery, ConfigScope, ConfigSetBody, ConfigSetResult, ConfigsView, ImageName, ImageQuery, InteractionBody, PerfkitInteractResult, PerfkitSessionId, SessionsView } from '../messages/perfkit.js';
import { DeviceIdParam, RawBytes, route, SIGNED_IN } from './route.js';

const dev = { id: DeviceIdParam };
const session = { ...dev, sid: PerfkitSessionId.check(z.describe('session id')) };
const image = { ...session, name: ImageName.check(z.describe('image name')) };

/** Perfkit's web API per device (seed 000): session browse, configs (browse, patches, modify), interactive images. */
export const PerfkitRoutes = {
  perfkitSessions: route({ method: 'GET', path: '/api/devices/:id/sessions', summary: 'Perfkit session browse: the live sessions and the recently ended, with their trace groups and images', tag: 'perfkit', auth: SIGNED_IN, permission: 'perfkit.read', device: 'any', params: dev, result: SessionsView }),
  perfkitConfigs: route({ method: 'GET', path: '/api/devices/:id/configs', summary: 'Configs: browse all (declared entries, desired and reported, with versions)', tag: 'perfkit', auth: SIGNED_IN, permission: 'perfkit.read', device: 'any', params: dev, result: ConfigsView }),
  perfkitConfigPatches: route({ method: 'GET', path: '/api/devices/:id/configs/patches', summary: 'Configs: fetch the patches after a sequence number, in order', tag: 'perfkit', auth: SIGNED_IN, permission: 'perfkit.read', device: 'any', params: dev, query: ConfigPatchesQuery, result: ConfigPatches }),
  perfkitConfigSet: route({ method: 'PUT', path: '/api/devices/:id/configs/:scope/:key', summary: 'Configs: modify an entry (409 when the given version is not the current one)', tag: 'perfkit', auth: SIGNED_IN, permission: 'perfkit.configure', device: 'any', params: { ...dev, scope: ConfigScope.check(z.describe('config scope')), key: ConfigKey.check(z.describe('config key')) }, body: ConfigSetBody, result: ConfigSetResult }),
  perfkitImage: route({ method: 'GET', path: '/api/devices/:id/sessions/:sid/images/:name', summary: 'Interactive images: the latest JPEG (or frame ?seq=, answered from the cache when known)', tag: 'perfkit', auth: SIGNED_IN, permission: 'perfkit.read', device: 'any', params: image, query: ImageQuery, result: RawBytes, resultKind: 'binary' }),
  perfkitInteract: route({ method: 'POST', path: '/api/devices/:id/sessions/:sid/images/:name/interactions', summary: 'Interactive images: post key and mouse events to the session', tag: 'perfkit', auth: SIGNED_IN, permission: 'perfkit.interact', device: 'online', params: image, body: InteractionBody, result: PerfkitInteractResult }),
} as const;

