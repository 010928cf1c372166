import { useEffect, useRef, useState } from 'preact/hooks';
import type { DeviceView } from '@edgehook/shared';
import { openSocket } from '../lib/api.js';
import { useSession } from '../lib/session.js';
import { ErrorBox } from '../lib/ui.js';

/** The key that gives the keyboard and mouse back to this browser (like a VM's host key). */
const RELEASE_KEY = 'ControlRight';

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;
const bool = (v: unknown): boolean => v === true;

interface Leds {
  power: boolean;
  hdd: boolean;
}
interface Drive {
  image: string | null;
  connected: boolean;
}

/** kvmd's absolute range across the picture: -32768..32767. */
function toKvm(pos: number, size: number): number {
  const v = Math.round((pos / Math.max(1, size)) * 65535 - 32768);
  return Math.max(-32768, Math.min(32767, v));
}

async function kvmPost(deviceId: string, path: string, body?: BodyInit): Promise<void> {
  const res = await fetch(`/kvm/${encodeURIComponent(deviceId)}/api/${path}`, { method: 'POST', credentials: 'same-origin', ...(body !== undefined ? { body } : {}) });
  if (res.ok) return;
  let msg = `HTTP ${res.status}`;
  try {
    const j: unknown = await res.json();
    if (isObj(j) && isObj(j['result']) && typeof j['result']['error_msg'] === 'string') msg = j['result']['error_msg'];
  } catch {
    // not JSON
  }
  throw new Error(msg);
}

/**
 * The device as a KVM: its live screen (MJPEG), keyboard and mouse once captured (click the
 * screen; Right Ctrl releases), paste as typing, ATX buttons and LEDs, virtual media upload with
 * progress and connect/disconnect, fullscreen. Everything goes through the device's PiKVM API.
 */
export function KvmTab({ device }: { device: DeviceView }) {
  const session = useSession();
  const canWrite = session.can('devices.hardware.write');
  const canPower = session.can('devices.power');
  const id = device.id;
  const [ws, setWs] = useState<WebSocket | undefined>(undefined);
  const [captured, setCaptured] = useState(false);
  const [leds, setLeds] = useState<Leds>({ power: false, hdd: false });
  const [drive, setDrive] = useState<Drive>({ image: null, connected: false });
  const [images, setImages] = useState<string[]>([]);
  const [progress, setProgress] = useState<number | undefined>(undefined);
  const [paste, setPaste] = useState('');
  const [error, setError] = useState<unknown>(undefined);
  const wrap = useRef<HTMLDivElement>(null);
  const screen = useRef<HTMLImageElement>(null);

  useEffect(() => {
    if (!device.online) return;
    let closed = false;
    let sock: WebSocket | undefined;
    openSocket(`/kvm/${encodeURIComponent(id)}/api/ws?stream=0`)
      .then((s) => {
        if (closed) return s.close();
        sock = s;
        setWs(s);
        s.onmessage = (m) => {
          if (typeof m.data !== 'string') return;
          let f: unknown;
          try {
            f = JSON.parse(m.data);
          } catch {
            return;
          }
          if (!isObj(f) || !isObj(f['event'])) return;
          const e = f['event'];
          if (f['event_type'] === 'atx' && isObj(e['leds'])) setLeds({ power: bool(e['leds']['power']), hdd: bool(e['leds']['hdd']) });
          if (f['event_type'] === 'msd') {
            const d = e['drive'];
            if (isObj(d)) setDrive({ image: isObj(d['image']) && typeof d['image']['name'] === 'string' ? d['image']['name'] : null, connected: bool(d['connected']) });
            const st = e['storage'];
            if (isObj(st) && isObj(st['images'])) setImages(Object.keys(st['images']).sort());
          }
        };
        s.onclose = () => !closed && setWs(undefined);
      })
      .catch((err: unknown) => setError(err));
    return () => {
      closed = true;
      sock?.close();
    };
  }, [id, device.online]);

  const send = (event_type: string, event: unknown): void => {
    if (ws && ws.readyState === WebSocket.OPEN && canWrite) ws.send(JSON.stringify({ event_type, event }));
  };
  const release = (): void => {
    setCaptured(false);
    screen.current?.blur();
  };
  const onKey = (state: boolean) => (e: KeyboardEvent) => {
    if (!captured) return;
    e.preventDefault();
    if (e.code === RELEASE_KEY) return state ? undefined : release();
    send('key', { key: e.code, state });
  };
  const onMove = (e: MouseEvent) => {
    const el = screen.current;
    if (!captured || !el) return;
    send('mouse_move', { to: { x: toKvm(e.offsetX, el.clientWidth), y: toKvm(e.offsetY, el.clientHeight) } });
  };
  const BUTTONS = ['left', 'middle', 'right'];
  const onButton = (state: boolean) => (e: MouseEvent) => {
    if (!captured) {
      if (state && canWrite) {
        setCaptured(true);
        screen.current?.focus();
      }
      return;
    }
    e.preventDefault();
    const button = BUTTONS[e.button];
    if (button) send('mouse_button', { button, state });
  };
  const onWheel = (e: WheelEvent) => {
    if (!captured) return;
    e.preventDefault();
    send('mouse_wheel', { delta: { x: 0, y: e.deltaY > 0 ? -1 : 1 } });
  };
  const act = (fn: () => Promise<void>) => () => {
    setError(undefined);
    fn().catch((err: unknown) => setError(err));
  };

  const upload = (file: File) => {
    setError(undefined);
    const xhr = new XMLHttpRequest();
    xhr.open('POST', `/kvm/${encodeURIComponent(id)}/api/msd/write?image=${encodeURIComponent(file.name)}`);
    xhr.upload.onprogress = (p) => setProgress(p.lengthComputable ? Math.round((100 * p.loaded) / p.total) : undefined);
    xhr.onload = () => {
      setProgress(xhr.status === 200 ? 100 : undefined);
      if (xhr.status !== 200) setError(new Error(`upload failed: HTTP ${xhr.status} ${xhr.responseText.slice(0, 200)}`));
    };
    xhr.onerror = () => setError(new Error('upload failed'));
    xhr.send(file);
  };

  if (!device.online) return <p class="muted">The device is offline: no screen.</p>;
  return (
    <div class="kvm">
      <ErrorBox error={error} onDismiss={() => setError(undefined)} />
      <div ref={wrap} class="kvm-screen-wrap">
        <img
          ref={screen}
          class={`kvm-screen${captured ? ' captured' : ''}`}
          data-testid="kvm-screen"
          alt={`Screen of ${device.name}`}
          src={`/kvm/${encodeURIComponent(id)}/streamer/stream`}
          tabIndex={0}
          draggable={false}
          onKeyDown={onKey(true)}
          onKeyUp={onKey(false)}
          onMouseMove={onMove}
          onMouseDown={onButton(true)}
          onMouseUp={onButton(false)}
          onWheel={onWheel}
          onContextMenu={(e) => captured && e.preventDefault()}
          onBlur={() => setCaptured(false)}
        />
      </div>
      <p class="muted" data-testid="kvm-capture">
        {captured ? 'Keyboard and mouse go to the device. Right Ctrl releases them.' : canWrite ? 'Click the screen to control the device.' : 'View only.'}{' '}
        {ws ? '' : '(connecting…)'}
      </p>
      <div class="row wrap">
        <button type="button" onClick={() => void wrap.current?.requestFullscreen?.()}>Fullscreen</button>
        {canPower && (
          <>
            <button type="button" data-testid="kvm-power" onClick={act(() => kvmPost(id, 'atx/click?button=power'))}>Power</button>
            <button type="button" onClick={act(() => kvmPost(id, 'atx/click?button=reset'))}>Reset</button>
          </>
        )}
        <span class={`led ${leds.power ? 'on' : ''}`} data-testid="kvm-led-power">power {leds.power ? 'on' : 'off'}</span>
        <span class={`led ${leds.hdd ? 'on' : ''}`}>hdd {leds.hdd ? 'on' : 'off'}</span>
      </div>
      {canWrite && (
        <>
          <h3>Paste as typing</h3>
          <div class="row wrap">
            <textarea data-testid="kvm-paste" rows={2} value={paste} onInput={(e) => setPaste(e.currentTarget.value)} />
            <button type="button" data-testid="kvm-paste-send" disabled={!paste} onClick={act(() => kvmPost(id, 'hid/print', paste))}>Type it</button>
          </div>
          <h3>Virtual media</h3>
          <div class="row wrap">
            <input type="file" data-testid="kvm-msd-file" onChange={(e) => e.currentTarget.files?.[0] && upload(e.currentTarget.files[0])} />
            {progress !== undefined && <progress data-testid="kvm-msd-progress" max={100} value={progress} />}
            <select data-testid="kvm-msd-image" value={drive.image ?? ''} disabled={drive.connected} onChange={(e) => act(() => kvmPost(id, `msd/set_params?image=${encodeURIComponent(e.currentTarget.value)}`))()}>
              <option value="">(no image)</option>
              {images.map((n) => (
                <option key={n} value={n}>{n}</option>
              ))}
            </select>
            <button type="button" data-testid="kvm-msd-connect" disabled={!drive.image} onClick={act(() => kvmPost(id, `msd/set_connected?connected=${drive.connected ? 0 : 1}`))}>
              {drive.connected ? 'Disconnect' : 'Connect'}
            </button>
            <span data-testid="kvm-msd-state">{drive.connected ? `connected: ${drive.image ?? ''}` : 'disconnected'}</span>
          </div>
        </>
      )}
    </div>
  );
}
