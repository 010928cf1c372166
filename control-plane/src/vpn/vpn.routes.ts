import { Hono } from 'hono';
import type { Kysely } from 'kysely';
import { hasPermission } from '@edgehook/shared';
import { VpnRoutes as R } from '@edgehook/shared/rest';
import type { Database } from '../db/database.js';
import type { AppEnv } from '../http/context.js';
import { routeMounter } from '../http/rest-route.js';
import type { VpnService } from './vpn.service.js';

export interface VpnRoutesDeps {
  db: Kysely<Database>;
  vpn: VpnService;
}

/** `/api/vpn`: the hub, its wg-quick config. */
export function vpnHubRoutes(deps: VpnRoutesDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const mount = routeMounter(app, '/api/vpn', deps.db);
  mount(R.vpnHub, () => deps.vpn.hubView());
  mount(R.vpnHubConf, async ({ c }) => {
    const secret = hasPermission(c.get('principal').permissions, 'vpn.hub.secret');
    const text = await deps.vpn.hubConf(secret);
    // The private key, when included, is not for caches.
    return c.text(text, 200, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store', 'content-disposition': 'inline; filename="edgehook-hub.conf"' });
  });
  return app;
}

/** `/api/devices/:id/vpn`: a device's state, and enabling / re-issuing it. */
export function deviceVpnRoutes(deps: VpnRoutesDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const mount = routeMounter(app, '/api/devices', deps.db);
  mount(R.deviceVpnGet, ({ device }) => deps.vpn.deviceView(device));
  mount(R.deviceVpnIssue, ({ device, body }) => deps.vpn.issueForAgent(device, { rotate: body.rotate ?? false }));
  return app;
}
