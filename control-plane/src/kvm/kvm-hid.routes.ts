import { KvmHidConnectedQuery, KvmHidSetParamsQuery, KvmMouseButtonQuery, KvmMouseDeltaQuery, KvmMouseMoveQuery, KvmShortcutQuery, type HidInputEvent } from '@edgehook/shared';
import type { RpcClient } from '../devices/rpc.client.js';
import { callHardware } from '../hardware/device-hardware.js';
import { kvmQuery } from './kvm-envelope.js';
import { KvmRoutes as K } from '@edgehook/shared/rest';
import type { Call, KvmAudit, KvmMount } from './kvm.routes.js';

/** kvmd's `/api/hid/...` beyond state, send_key and print: mouse, shortcuts, keymaps, params, reset. */
export function kvmHidRoutes(ctx: { rpc: RpcClient; mount: KvmMount; audit: KvmAudit }): void {
  const { rpc, mount } = ctx;
  const events =
    (fn: (c: Call['c']) => HidInputEvent[]) =>
    async ({ c, device }: Call) => {
      const list = fn(c);
      if (list.length > 0) await callHardware(rpc, device, 'hid.events', { events: list });
      return {};
    };

  mount(K.kvmKeymaps, ({ device }) => callHardware(rpc, device, 'hid.keymaps', {}));
  mount(
    K.kvmMouseButton,
    events((c) => {
      const q = kvmQuery(c, KvmMouseButtonQuery);
      // No `state`: a click (press then release), as kvmd.
      return q.state === undefined
        ? [{ t: 'button', button: q.button, state: true }, { t: 'button', button: q.button, state: false }]
        : [{ t: 'button', button: q.button, state: q.state }];
    }),
  );
  mount(
    K.kvmMouseMove,
    events((c) => {
      const q = kvmQuery(c, KvmMouseMoveQuery);
      return [{ t: 'move', x: q.to_x, y: q.to_y }];
    }),
  );
  mount(
    K.kvmMouseRelative,
    events((c) => {
      const q = kvmQuery(c, KvmMouseDeltaQuery);
      return [{ t: 'relative', x: q.delta_x, y: q.delta_y }];
    }),
  );
  mount(
    K.kvmMouseWheel,
    events((c) => {
      const q = kvmQuery(c, KvmMouseDeltaQuery);
      return [{ t: 'wheel', x: q.delta_x, y: q.delta_y }];
    }),
  );
  mount(K.kvmShortcut, async ({ c, device }) => {
      const q = kvmQuery(c, KvmShortcutQuery);
      if (q.keys.length > 0) await callHardware(rpc, device, 'hid.shortcut', { keys: q.keys });
      return {};
    });
  mount(K.kvmHidSetParams, async ({ c, device }) => {
      const q = kvmQuery(c, KvmHidSetParamsQuery);
      await callHardware(rpc, device, 'hid.setParams', q);
      return {};
    });
  mount(K.kvmHidReset, async (call) => {
      await callHardware(rpc, call.device, 'hid.reset', {});
      ctx.audit(call, 'hid reset', {});
      return {};
    });
  // The gadget is OTG: kvmd validates `connected` and leaves an OTG HID connected (`connected: null`).
  mount(K.kvmHidSetConnected, async ({ c }) => {
      kvmQuery(c, KvmHidConnectedQuery);
      return {};
    });
  mount(K.kvmHidInactivity, ({ device }) => callHardware(rpc, device, 'hid.inactivity', {}));
}
