import * as z from '@edgehook/shared/zod';
import { useEffect, useRef, useState } from 'preact/hooks';
import type { AtxState, DeviceView, GpioModel, GpioState } from '@edgehook/shared';
import { apiRoute, loadSchemas, messageOf, openSocket, parseFrame } from '../lib/api.js';
import { useSession } from '../lib/session.js';
import { Confirm, ErrorBox, useAction } from '../lib/ui.js';

type PowerAction = 'on' | 'off' | 'off_hard' | 'reset_hard';
const POWER: { action: PowerAction; label: string; confirm?: string }[] = [
  { action: 'on', label: 'Power on' },
  { action: 'off', label: 'Power off (soft)' },
  { action: 'off_hard', label: 'Hard off', confirm: 'Hold the power button until the machine cuts power. Unsaved work on it is lost.' },
  { action: 'reset_hard', label: 'Reset', confirm: 'Press the reset button: the machine restarts at once. Unsaved work on it is lost.' },
];

/** Live hardware state from the PiKVM-compatible event socket: the state bundle, then changes. */
function useHardwareState(deviceId: string, online: boolean) {
  const [atx, setAtx] = useState<AtxState | undefined>(undefined);
  const [gpio, setGpio] = useState<GpioState | undefined>(undefined);
  const [model, setModel] = useState<GpioModel | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  const [live, setLive] = useState(false);
  useEffect(() => {
    if (!online) return;
    let ws: WebSocket | undefined;
    let closed = false;
    Promise.all([loadSchemas(), openSocket(`/kvm/${encodeURIComponent(deviceId)}/api/ws?stream=0`)])
      .then(([schemas, s]) => {
        // kvmd events carry the changed top-level fields only.
        const atxPatch = z.partial(schemas.AtxState);
        const gpioPatch = z.partial(schemas.GpioState);
        if (closed) return s.close();
        ws = s;
        setLive(true);
        s.onmessage = (m) => {
          let f: unknown;
          try {
            f = typeof m.data === 'string' ? JSON.parse(m.data) : undefined;
          } catch {
            return;
          }
          if (!f || typeof f !== 'object' || !('event_type' in f) || !('event' in f)) return;
          const { event_type: type, event: e } = f;
          if (type === 'atx_state') {
            const p = atxPatch.safeParse(e);
            if (p.success) setAtx((cur) => ({ ...(cur ?? { enabled: true, busy: false, acts: { power: false, reset: false }, leds: { power: false, hdd: false } }), ...p.data }));
          } else if (type === 'gpio_state') {
            const p = gpioPatch.safeParse(e);
            if (p.success) setGpio((cur) => ({ inputs: { ...cur?.inputs, ...p.data.inputs }, outputs: { ...cur?.outputs, ...p.data.outputs } }));
          } else if (type === 'gpio' && e && typeof e === 'object' && 'model' in e) {
            // kvmd 4.x's `gpio` carries the model as GpioModel (the classic gpio_model_state is reshaped).
            const p = schemas.GpioModel.safeParse(e.model);
            if (p.success) setModel(p.data);
          }
        };
        s.onclose = () => !closed && setLive(false);
      })
      .catch((err: unknown) => setError(err));
    return () => {
      closed = true;
      ws?.close();
    };
  }, [deviceId, online]);
  return { atx, gpio, model, error, live };
}

export function HardwareTab({ device }: { device: DeviceView }) {
  const session = useSession();
  const hw = useHardwareState(device.id, device.online);
  const power = useAction();
  const gpioAction = useAction();
  const typing = useAction();
  const [confirming, setConfirming] = useState<(typeof POWER)[number] | undefined>(undefined);
  const [text, setText] = useState('');
  const [typed, setTyped] = useState('');
  const canPower = session.can('devices.power');
  const canWrite = session.can('devices.hardware.write');
  const press = (action: PowerAction) => void power.run(() => apiRoute('atxPower', { params: { id: device.id }, body: { action, wait: false } }));
  const atx = hw.atx;
  const disabled = !device.online || !atx?.enabled || atx.busy || power.busy;

  return (
    <div class="hw-grid">
      <div class="stack">
      <section class="card stack" aria-labelledby="atx-title">
        <h2 id="atx-title">Power (ATX)</h2>
        <div class="row" aria-live="polite">
          <span class="led power" data-testid="led-power" data-state={atx?.leds.power ? 'on' : 'off'}><i aria-hidden="true" /> Power LED {atx?.leds.power ? 'on' : 'off'}</span>
          <span class="led hdd" data-testid="led-hdd" data-state={atx?.leds.hdd ? 'on' : 'off'}><i aria-hidden="true" /> HDD LED {atx?.leds.hdd ? 'on' : 'off'}</span>
          <span class="muted">{hw.live ? 'live' : device.online ? 'connecting…' : ''}{atx?.busy ? ' · busy' : ''}</span>
        </div>
        {atx && !atx.enabled && <p class="notice">This board has no ATX control.</p>}
        {canPower ? (
          <div class="row">
            {POWER.map((p) => (
              <button key={p.action} type="button" class={p.confirm ? 'danger' : ''} disabled={disabled} onClick={() => (p.confirm ? setConfirming(p) : press(p.action))}>
                {p.label}
              </button>
            ))}
          </div>
        ) : (
          <p class="muted">Your role cannot press power buttons (needs <code>devices.power</code>).</p>
        )}
        {power.busy && <p role="status">Sending…</p>}
        <ErrorBox error={power.error ?? hw.error} />
        <Confirm
          open={confirming !== undefined}
          title={confirming ? `${confirming.label} ${device.name}?` : ''}
          confirmLabel={confirming?.label ?? 'Confirm'}
          danger
          onCancel={() => setConfirming(undefined)}
          onConfirm={() => {
            if (confirming) press(confirming.action);
            setConfirming(undefined);
          }}
        >
          <p>{confirming?.confirm}</p>
        </Confirm>
      </section>

      {canWrite && (
        <section class="card stack" aria-labelledby="type-title">
          <h2 id="type-title">Type text</h2>
          <form class="stack" onSubmit={(e) => { e.preventDefault(); void typing.run(async () => { await apiRoute('hidPrint', { params: { id: device.id }, body: { text } }); setTyped(text); setText(''); }); }}>
            <label>
              Text to type on the device's keyboard
              <textarea rows={3} value={text} onInput={(e) => setText(e.currentTarget.value)} />
            </label>
            <div class="row">
              <button type="submit" disabled={!device.online || !text || typing.busy}>{typing.busy ? 'Typing…' : 'Type'}</button>
              {typed && <span class="muted" role="status">typed {typed.length} characters</span>}
            </div>
          </form>
          <ErrorBox error={typing.error} />
        </section>
      )}
      </div>

      <section class="card stack gpio" aria-labelledby="gpio-title">
        <h2 id="gpio-title">GPIO</h2>
        {!hw.model && <p class="muted">{device.online ? 'Waiting for the device…' : 'Unavailable while offline.'}</p>}
        {hw.model && Object.keys(hw.model.scheme.inputs).length + Object.keys(hw.model.scheme.outputs).length === 0 && (
          <p class="muted" data-testid="gpio-empty">This board has no GPIO channels (its profile, {device.profile}, declares none).</p>
        )}
        {hw.model && Object.keys(hw.model.scheme.inputs).length + Object.keys(hw.model.scheme.outputs).length > 0 && (
          <table>
            <thead><tr><th>Channel</th><th>State</th><th><span class="muted">Control</span></th></tr></thead>
            <tbody>
              {Object.keys(hw.model.scheme.inputs).map((ch) => (
                <tr key={`in-${ch}`}>
                  <td class="channel">{ch}<br /><span class="muted">input</span></td>
                  <td><span class="led" data-testid={`gpio-${ch}`} data-state={hw.gpio?.inputs[ch]?.state ? 'on' : 'off'}><i aria-hidden="true" /> {hw.gpio?.inputs[ch]?.state ? 'high' : 'low'}</span></td>
                  <td />
                </tr>
              ))}
              {Object.entries(hw.model.scheme.outputs).map(([ch, o]) => {
                const st = hw.gpio?.outputs[ch];
                return (
                  <tr key={`out-${ch}`}>
                    <td class="channel">{ch}<br /><span class="muted">output</span></td>
                    <td><span class="led" data-testid={`gpio-${ch}`} data-state={st?.state ? 'on' : 'off'} data-busy={st?.busy ? 'true' : 'false'}><i aria-hidden="true" /> {st?.state ? 'on' : 'off'}{st?.busy ? ' (busy)' : ''}</span></td>
                    <td class="row">
                      {o.switch && (
                        <label class="inline">
                          <input type="checkbox" role="switch" aria-label={`Switch ${ch}`} checked={!!st?.state} disabled={!canWrite || !device.online || gpioAction.busy || st?.busy}
                            onChange={(e) => { const state = e.currentTarget.checked; void gpioAction.run(() => apiRoute('gpioSwitch', { params: { id: device.id, channel: ch }, body: { state } })); }} />
                          switch
                        </label>
                      )}
                      {o.pulse && (
                        <button type="button" disabled={!canWrite || !device.online || gpioAction.busy || st?.busy} onClick={() => void gpioAction.run(() => apiRoute('gpioPulse', { params: { id: device.id, channel: ch }, body: {} }))}>
                          Pulse
                        </button>
                      )}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        )}
        <ErrorBox error={gpioAction.error} />
      </section>


      {canWrite && <SerialConsole deviceId={device.id} online={device.online} />}
    </div>
  );
}

function SerialConsole({ deviceId, online }: { deviceId: string; online: boolean }) {
  const [open, setOpen] = useState(false);
  const [status, setStatus] = useState('');
  const host = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!open || !host.current) return;
    const el = host.current;
    let disposed = false;
    let ws: WebSocket | undefined;
    let dispose = () => undefined as void;
    setStatus('loading terminal');
    void import('../lib/term.js').then(async ({ createTerm }) => {
      if (disposed) return;
      const t = createTerm(el, () => undefined);
      dispose = () => t.dispose();
      try {
        // The relay's frame shape; `info` read field by field, as the relay may send `{}` for it.
        const { RelayServerMessage } = await loadSchemas();
        ws = await openSocket(`/api/devices/${encodeURIComponent(deviceId)}/serial`);
        if (disposed) return ws.close();
        ws.send(JSON.stringify({ type: 'open' }));
        const enc = new TextEncoder();
        t.term.onData((d) => ws?.readyState === WebSocket.OPEN && ws.send(enc.encode(d)));
        ws.onmessage = (m) => {
          if (m.data instanceof ArrayBuffer) return t.term.write(new Uint8Array(m.data));
          const msg = parseFrame(RelayServerMessage, m.data);
          if (msg?.type === 'opened') {
            const port = msg.info['port'];
            setStatus(`connected${typeof port === 'string' ? ` to ${port}` : ''}`);
          }
          else if (msg?.type === 'error' || msg?.type === 'notice') t.term.writeln(`\r\n\x1b[33m[${msg.message}]\x1b[0m`);
          else if (msg?.type === 'end') setStatus('ended');
        };
        ws.onclose = () => !disposed && setStatus('disconnected');
        t.term.focus();
      } catch (err) {
        setStatus(messageOf(err));
      }
    });
    return () => {
      disposed = true;
      ws?.close();
      dispose();
    };
  }, [open, deviceId]);
  return (
    <section class="card stack" aria-labelledby="serial-title" style={{ gridColumn: '1 / -1' }}>
      <div class="row between">
        <h2 id="serial-title">Serial console</h2>
        <button type="button" disabled={!online && !open} onClick={() => setOpen((o) => !o)}>{open ? 'Close serial console' : 'Open serial console'}</button>
      </div>
      {open && <p class="muted" aria-live="polite">{status}</p>}
      {open && <div class="term-host" ref={host} aria-label="Serial terminal" />}
    </section>
  );
}
