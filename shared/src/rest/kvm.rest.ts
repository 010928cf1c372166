import * as z from '../zod.js';
import { KvmAtxClickQuery, KvmAtxPowerQuery, KvmGpioPulseQuery, KvmGpioSwitchQuery, KvmInfoQuery, KvmLogQuery, KvmPrintQuery, KvmSendKeyQuery } from '../messages/hardware.js';
import { KvmHidConnectedQuery, KvmHidSetParamsQuery, KvmMouseButtonQuery, KvmMouseDeltaQuery, KvmMouseMoveQuery, KvmShortcutQuery } from '../messages/hid.js';
import { KvmMsdConnectedQuery, KvmMsdImageQuery, KvmMsdReadQuery, KvmMsdSetParamsQuery, KvmMsdWriteQuery, KvmMsdWriteRemoteQuery, KvmSnapshotQuery, KvmStreamerSetParamsQuery, KvmStreamQuery } from '../messages/kvm-media.js';
import { LoginForm } from '../messages/auth.js';
import { RpcMethods } from '../messages/rpc.js';
import { RawBytes, RawText, route, type AuthScheme, type RouteSpec } from './route.js';

/** kvmd accepts its headers, Basic, and its auth_token cookie (bearer too, here). */
const KVM_AUTH: readonly AuthScheme[] = ['kvmd', 'basic', 'cookie', 'bearer'];
const dev = { deviceId: z.string().check(z.minLength(1), z.maxLength(253), z.describe('device id or name')) };
/** kvmd's answer: `{ok: true, result}` (errors: `{ok: false, result: {error, error_msg}}`). */
const envelope = <S extends z.ZodMiniType>(result: S) => z.object({ ok: z.literal(true), result });
const Empty = envelope(z.object({}));
const Any = envelope(z.record(z.string(), z.unknown()));

type KvmSpec = Omit<RouteSpec, 'path' | 'tag' | 'auth' | 'errors' | 'params' | 'method'> & { params?: RouteSpec['params'] };
const get = <const S extends KvmSpec, const P extends string>(path: P, spec: S) => route({ method: 'GET', path: `/kvm/:deviceId/api${path}`, tag: 'pikvm', auth: KVM_AUTH, errors: 'pikvm', params: dev, ...spec });
const post = <const S extends KvmSpec, const P extends string>(path: P, spec: S) => route({ method: 'POST', path: `/kvm/:deviceId/api${path}`, tag: 'pikvm', auth: KVM_AUTH, errors: 'pikvm', params: dev, ...spec });
const W = 'devices.hardware.write' as const;
const R = 'devices.hardware.read' as const;

/**
 * kvmd's HTTP API per device (docs/pikvm.md): its paths, query parameters even on POST, `{ok,
 * result}` envelopes and its auth. Existing PiKVM clients work with the host replaced by
 * `<control-plane>/kvm/<device>`.
 */
export const KvmRoutes = {
  kvmLogin: post('/auth/login', { summary: 'Sign in (form or query user/passwd; a TOTP code may be appended); sets auth_token', permission: null, query: z.partial(LoginForm), body: LoginForm, bodyKind: 'form', result: Empty }),
  kvmCheck: get('/auth/check', { summary: 'Are these credentials good', permission: null, result: Empty }),
  kvmLogout: post('/auth/logout', { summary: 'End the session', permission: null, result: Empty }),
  kvmInfo: get('/info', { summary: 'System info (?fields=...)', permission: R, query: KvmInfoQuery, result: Any }),
  kvmLog: get('/log', { summary: 'The log as text (?follow=1 streams)', permission: R, query: KvmLogQuery, result: RawText, resultKind: 'text' }),
  kvmAtx: get('/atx', { summary: 'ATX state', permission: R, result: envelope(RpcMethods['atx.state'].result) }),
  kvmAtxPower: post('/atx/power', { summary: 'ATX power action', permission: 'devices.power', query: KvmAtxPowerQuery, result: Empty }),
  kvmAtxClick: post('/atx/click', { summary: 'ATX button press', permission: 'devices.power', query: KvmAtxClickQuery, result: Empty }),
  kvmGpio: get('/gpio', { summary: 'GPIO model and state', permission: R, result: envelope(RpcMethods['gpio.state'].result) }),
  kvmGpioSwitch: post('/gpio/switch', { summary: 'Switch a channel', permission: W, query: KvmGpioSwitchQuery, result: Empty }),
  kvmGpioPulse: post('/gpio/pulse', { summary: 'Pulse a channel', permission: W, query: KvmGpioPulseQuery, result: Empty }),
  kvmHid: get('/hid', { summary: 'HID state', permission: R, result: envelope(RpcMethods['hid.state'].result) }),
  kvmSendKey: post('/hid/events/send_key', { summary: 'Press, release or tap a key', permission: W, query: KvmSendKeyQuery, result: Empty }),
  kvmPrint: post('/hid/print', { summary: 'Type the body text', permission: W, query: KvmPrintQuery, body: RawText, bodyKind: 'text', result: Empty }),
  kvmKeymaps: get('/hid/keymaps', { summary: 'Keymaps', permission: R, result: envelope(RpcMethods['hid.keymaps'].result) }),
  kvmMouseButton: post('/hid/events/send_mouse_button', { summary: 'Mouse button', permission: W, query: KvmMouseButtonQuery, result: Empty }),
  kvmMouseMove: post('/hid/events/send_mouse_move', { summary: 'Absolute mouse move', permission: W, query: KvmMouseMoveQuery, result: Empty }),
  kvmMouseRelative: post('/hid/events/send_mouse_relative', { summary: 'Relative mouse move', permission: W, query: KvmMouseDeltaQuery, result: Empty }),
  kvmMouseWheel: post('/hid/events/send_mouse_wheel', { summary: 'Mouse wheel', permission: W, query: KvmMouseDeltaQuery, result: Empty }),
  kvmShortcut: post('/hid/events/send_shortcut', { summary: 'A key combination', permission: W, query: KvmShortcutQuery, result: Empty }),
  kvmHidSetParams: post('/hid/set_params', { summary: 'Keyboard/mouse output, jiggler', permission: W, query: KvmHidSetParamsQuery, result: Empty }),
  kvmHidReset: post('/hid/reset', { summary: 'Reset the HID gadget', permission: W, result: Empty }),
  kvmHidSetConnected: post('/hid/set_connected', { summary: 'Connect or disconnect the HID (an OTG gadget stays connected, as kvmd)', permission: W, query: KvmHidConnectedQuery, result: Empty }),
  kvmHidInactivity: get('/hid/inactivity', { summary: 'Seconds since the last input', permission: R, result: envelope(RpcMethods['hid.inactivity'].result) }),
  kvmStreamer: get('/streamer', { summary: 'ustreamer state', permission: R, result: Any }),
  kvmSnapshot: get('/streamer/snapshot', { summary: 'A JPEG of the screen (or OCR text)', permission: R, query: KvmSnapshotQuery, result: RawBytes, resultKind: 'binary' }),
  kvmStreamerSetParams: post('/streamer/set_params', { summary: 'Stream quality, fps, resolution', permission: W, query: KvmStreamerSetParamsQuery, result: Empty }),
  kvmStreamerReset: post('/streamer/reset', { summary: 'Restart the streamer', permission: W, result: Empty }),
  kvmMsd: get('/msd', { summary: 'Mass storage state', permission: R, result: envelope(RpcMethods['msd.state'].result) }),
  kvmMsdSetParams: post('/msd/set_params', { summary: 'Select the image, cdrom, rw', permission: W, query: KvmMsdSetParamsQuery, result: Empty }),
  kvmMsdSetConnected: post('/msd/set_connected', { summary: 'Connect or disconnect the drive', permission: W, query: KvmMsdConnectedQuery, result: Empty }),
  kvmMsdRemove: post('/msd/remove', { summary: 'Remove an image', permission: W, query: KvmMsdImageQuery, result: Empty }),
  kvmMsdReset: post('/msd/reset', { summary: 'Reset the drive', permission: W, result: Any }),
  kvmMsdWrite: post('/msd/write', { summary: 'Upload an image (the body, streamed)', permission: W, query: KvmMsdWriteQuery, body: RawBytes, bodyKind: 'binary', result: Any }),
  kvmMsdRead: get('/msd/read', { summary: 'Download a stored image (streamed)', permission: R, query: KvmMsdReadQuery, result: RawBytes, resultKind: 'binary' }),
  kvmMsdWriteRemote: post('/msd/write_remote', { summary: 'Download an image from a URL onto the drive', permission: W, query: KvmMsdWriteRemoteQuery, result: RawText, resultKind: 'text' }),
  kvmPrometheus: get('/export/prometheus/metrics', { summary: 'kvmd metrics, Prometheus text', permission: R, result: RawText, resultKind: 'text' }),
  kvmStream: route({ method: 'GET', path: '/kvm/:deviceId/streamer/stream', summary: 'The MJPEG stream (multipart/x-mixed-replace)', tag: 'pikvm', auth: KVM_AUTH, errors: 'pikvm', params: dev, permission: R, query: KvmStreamQuery, result: RawBytes, resultKind: 'binary' }),
} as const;
