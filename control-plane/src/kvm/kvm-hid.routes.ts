import type { Hono } from 'hono';
import { KvmHidSetParamsQuery, KvmMouseButtonQuery, KvmMouseDeltaQuery, KvmMouseMoveQuery, KvmShortcutQuery, type HidInputEvent } from '@edgehook/shared';
import type { RpcClient } from '../devices/rpc.client.js';
import { callHardware } from '../hardware/device-hardware.js';
import { kvmQuery } from './kvm-envelope.js';
import type { KvmAudit, KvmHandle } from './kvm.routes.js';

/** kvmd's `/api/hid/...` beyond state, send_key and print: mouse, shortcuts, keymaps, params, reset. */
export function kvmHidRoutes(app: Hono, ctx: { rpc: RpcClient; handle: KvmHandle; audit: KvmAudit }): void {
  const { rpc, handle } = ctx;
  const W = 'devices.hardware.write' as const;
  const events = (fn: (c: Parameters<Parameters<KvmHandle>[1]>[0]['c']) => HidInputEvent[]) =>
    handle(W, async ({ c, device }) => {
      const list = fn(c);
      if (list.length > 0) await callHardware(rpc, device, 'hid.events', { events: list });
      return {};
    });

  app.get('/hid/keymaps', handle('devices.hardware.read', ({ device }) => callHardware(rpc, device, 'hid.keymaps', {})));
  app.post(
    '/hid/events/send_mouse_button',
    events((c) => {
      const q = kvmQuery(c, KvmMouseButtonQuery);
      // No `state`: a click (press then release), as kvmd.
      return q.state === undefined
        ? [{ t: 'button', button: q.button, state: true }, { t: 'button', button: q.button, state: false }]
        : [{ t: 'button', button: q.button, state: q.state }];
    }),
  );
  app.post(
    '/hid/events/send_mouse_move',
    events((c) => {
      const q = kvmQuery(c, KvmMouseMoveQuery);
      return [{ t: 'move', x: q.to_x, y: q.to_y }];
    }),
  );
  app.post(
    '/hid/events/send_mouse_relative',
    events((c) => {
      const q = kvmQuery(c, KvmMouseDeltaQuery);
      return [{ t: 'relative', x: q.delta_x, y: q.delta_y }];
    }),
  );
  app.post(
    '/hid/events/send_mouse_wheel',
    events((c) => {
      const q = kvmQuery(c, KvmMouseDeltaQuery);
      return [{ t: 'wheel', x: q.delta_x, y: q.delta_y }];
    }),
  );
  app.post(
    '/hid/events/send_shortcut',
    handle(W, async ({ c, device }) => {
      const q = kvmQuery(c, KvmShortcutQuery);
      if (q.keys.length > 0) await callHardware(rpc, device, 'hid.shortcut', { keys: q.keys });
      return {};
    }),
  );
  app.post(
    '/hid/set_params',
    handle(W, async ({ c, device }) => {
      const q = kvmQuery(c, KvmHidSetParamsQuery);
      await callHardware(rpc, device, 'hid.setParams', q);
      return {};
    }),
  );
  app.post(
    '/hid/reset',
    handle(W, async (call) => {
      await callHardware(rpc, call.device, 'hid.reset', {});
      ctx.audit(call, 'hid reset', {});
      return {};
    }),
  );
}
