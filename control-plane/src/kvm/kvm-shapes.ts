import type { GpioModel, Info, MsdState, StreamerState } from '@edgehook/shared';

/**
 * One state, two dialects. The agent reports kvmd 4.x shapes; the classic kvmd API the seed
 * documents (the `*_state` events) differs in a few fields, derived here. See docs/pikvm.md.
 */

/** kvmd major.minor this facade answers as (`loop` event, info). */
export const KVMD_COMPAT = { major: 4, minor: 197 } as const;

/** Classic: `pin` a number, the view title a plain string. */
export function classicGpioModel(m: GpioModel): unknown {
  const hw = (h: { driver: string; pin: string }) => ({ driver: h.driver, pin: /^\d+$/.test(h.pin) ? Number(h.pin) : h.pin });
  return {
    scheme: {
      inputs: Object.fromEntries(Object.entries(m.scheme.inputs).map(([k, v]) => [k, { ...v, hw: hw(v.hw) }])),
      outputs: Object.fromEntries(Object.entries(m.scheme.outputs).map(([k, v]) => [k, { ...v, hw: hw(v.hw) }])),
    },
    view: { header: { title: m.view.header.title.map((t) => (typeof t['text'] === 'string' ? t['text'] : '')).join(' ') }, table: m.view.table },
  };
}

/** Classic msd_state: storage size/free and images by name, `uploading` a boolean, features. */
export function classicMsd(s: MsdState): unknown {
  const part = s.storage?.parts[''];
  const image = s.drive?.image;
  return {
    enabled: s.enabled,
    online: s.online,
    busy: s.busy,
    storage: s.storage
      ? {
          size: part?.size ?? 0,
          free: part?.free ?? 0,
          images: Object.fromEntries(Object.entries(s.storage.images).map(([name, i]) => [name, { name, size: i.size, complete: i.complete }])),
          uploading: s.storage.uploading !== null || s.storage.downloading !== null,
        }
      : null,
    drive: s.drive ? { image: image ? { name: image.name, size: image.size, complete: image.complete } : null, connected: s.drive.connected, cdrom: s.drive.cdrom } : null,
    features: { multi: true, cdrom: true },
  };
}

/** Classic streamer_state: `limits.max_fps`, params without resolution, two features. */
export function classicStreamer(s: StreamerState): unknown {
  return {
    limits: { max_fps: s.limits.desired_fps.max },
    params: { desired_fps: s.params.desired_fps, quality: s.params.quality },
    snapshot: s.snapshot,
    streamer: s.streamer,
    features: { quality: s.features.quality, resolution: s.features.resolution },
  };
}

/**
 * kvmd 4.x `/api/info?legacy=0` from the agent's classic info: `hw` splits into
 * `system.platform` and `health`; `auth` and `fan` as a board without a fan monitor reports.
 */
export function currentInfo(info: Info, fields?: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const want = (f: string) => !fields || fields.includes(f);
  if (want('system') && info.system) out['system'] = { ...info.system, ...(info.hw ? { platform: { ...info.hw.platform, serial: '' } } : {}) };
  if (want('health') && info.hw) out['health'] = info.hw.health;
  if (want('meta') && info.meta) out['meta'] = info.meta;
  if (want('extras') && info.extras) out['extras'] = info.extras;
  if (want('auth')) out['auth'] = { enabled: true };
  if (want('fan')) out['fan'] = { monitored: false, state: null };
  return out;
}

/** The fields `/api/info?legacy=0` knows (kvmd's submanagers we answer for). */
export const CURRENT_INFO_FIELDS = ['system', 'auth', 'meta', 'extras', 'health', 'fan'] as const;
