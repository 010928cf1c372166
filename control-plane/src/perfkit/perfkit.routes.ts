import { Hono } from 'hono';
import type { Kysely } from 'kysely';
import { AGENT_SCOPE, checkConfigValue, EdgehookError, findConfigEntry, PerfkitStreamKinds, type ConfigClassDecl, type Clock, type Logger, type PerfkitState } from '@edgehook/shared';
import { PerfkitRoutes as R } from '@edgehook/shared/rest';
import type { Database } from '../db/database.js';
import type { AppEnv } from '../http/context.js';
import { routeMounter } from '../http/rest-route.js';
import type { RpcClient } from '../devices/rpc.client.js';
import { requireOnline } from '../devices/device.middleware.js';
import type { StreamRelay } from '../streams/stream-relay.js';
import { openFrames, type RelayedFrame } from '../kvm/video-relay.js';
import type { PerfkitHub } from './perfkit-hub.js';
import type { SeriesRegistry } from '../telemetry/series.registry.js';
import { headSeq, listDesired, listSchemas, patchesSince, setDesired } from './perfkit.repository.js';
import { SeqCache } from './seq-cache.js';

export interface PerfkitRoutesDeps {
  db: Kysely<Database>;
  clock: Clock;
  log: Logger;
  rpc: RpcClient;
  relay?: StreamRelay | undefined;
  perfkit: PerfkitHub;
  /** The telemetry series, for each session's traces (absent: trace groups without series). */
  series?: SeriesRegistry | undefined;
}

/** The device's trace series per group, from the telemetry registry. */
function traceSeries(series: SeriesRegistry | undefined, deviceId: string): Map<string, { series: string[]; lastTs: number | null }> {
  const out = new Map<string, { series: string[]; lastTs: number | null }>();
  const key = series?.deviceKey(deviceId);
  if (!series || key === undefined) return out;
  for (const s of series.seriesOf(key)) {
    const m = /^trace\.([a-z0-9_]+)\.(.+)$/.exec(s.metric);
    if (!m?.[1] || !m[2]) continue;
    const g = out.get(m[1]) ?? { series: [], lastTs: null };
    if (!g.series.includes(m[2])) g.series.push(m[2]);
    if (s.lastTs !== null && (g.lastTs === null || s.lastTs > g.lastTs)) g.lastTs = s.lastTs;
    out.set(m[1], g);
  }
  return out;
}

type Frame = RelayedFrame & { seq: number };

/** One frame of a session's image through the relay (the KVM screen's frame path), with its seq. */
async function fetchFrame(relay: StreamRelay, deviceId: string, spec: { session: string; image: string; seq?: number }): Promise<Frame> {
  return new Promise((resolve, reject) => {
    let got: RelayedFrame | undefined;
    const stream = openFrames(relay, deviceId, PerfkitStreamKinds.image, spec, {
      frame: (f, release) => {
        got = f;
        release();
      },
      end: (err) => {
        if (!got) return reject(err ?? new EdgehookError('INTERNAL', 'the device sent no frame'));
        const frame = got;
        stream.opened.then(
          (info) => (info ? resolve({ ...frame, seq: info.seq }) : reject(new EdgehookError('INTERNAL', 'the device did not say which frame it sent'))),
          reject,
        );
      },
    });
  });
}

/** Declared scopes: the live report when there is one, else what the store kept. */
async function declarations(db: Kysely<Database>, deviceId: string, state: PerfkitState | undefined): Promise<Map<string, ConfigClassDecl[]>> {
  const all = await listSchemas(db, deviceId);
  for (const c of state?.configs ?? []) all.set(c.scope, c.classes);
  return all;
}

/** Perfkit's web API per device: sessions, configs (browse, patches, modify), interactive images. */
export function perfkitRoutes(deps: PerfkitRoutesDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const { db, perfkit } = deps;
  const mount = routeMounter(app, '/api/devices', db);
  // 64 MB of frames at most across devices; a frame is known by device, session, image and seq.
  const frames = new SeqCache<Frame>({ maxEntries: 512, maxBytes: 64 * 1024 * 1024, sizeOf: (f) => f.jpeg.length });

  mount(R.perfkitSessions, ({ device }) => {
    const got = perfkit.get(device.id);
    const traces = traceSeries(deps.series, device.id);
    const sessions = (got?.state.sessions ?? []).map((s) => ({ ...s, traces: s.traceGroups.map((group) => ({ group, series: [...(traces.get(group)?.series ?? [])].sort(), lastTs: traces.get(group)?.lastTs ?? null })) }));
    return { device: { id: device.id, name: device.name, online: device.online }, reportedAt: got?.receivedAt ?? null, sessions };
  });

  mount(R.perfkitConfigs, async ({ device }) => {
    const state = perfkit.get(device.id)?.state;
    const decls = await declarations(db, device.id, state);
    const desired = await listDesired(db, device.id);
    const liveNames = new Set((state?.sessions ?? []).filter((s) => s.endedAt === null).map((s) => s.name));
    const scopes = [...decls].map(([scope, classes]) => {
      const reported = new Map((state?.configs.find((c) => c.scope === scope)?.reported ?? []).map((r) => [r.key, r]));
      const entries = classes.flatMap((c) =>
        c.entries.map((e) => {
          const key = `${c.name}.${e.name}`;
          const d = desired.entries.find((x) => x.scope === scope && x.key === key);
          const r = reported.get(key);
          return {
            key,
            type: e.type,
            default: e.default,
            description: e.description,
            ...(e.options ? { options: e.options } : {}),
            ...(e.min !== undefined ? { min: e.min } : {}),
            ...(e.max !== undefined ? { max: e.max } : {}),
            desired: d ? { value: d.value, version: d.version } : null,
            reported: r ? { value: r.value, version: r.version } : null,
            inSync: !d || (r !== undefined && r.version === d.version && r.value === d.value),
          };
        }),
      );
      return { scope, live: scope === AGENT_SCOPE ? device.online : liveNames.has(scope), classes: classes.map((c) => ({ name: c.name, description: c.description })), entries };
    });
    return { device: { id: device.id, name: device.name }, seq: desired.seq, scopes };
  });

  mount(R.perfkitConfigPatches, async ({ device, query }) => {
    const { patches, more } = await patchesSince(db, device.id, query.since, query.limit);
    return { since: query.since, seq: await headSeq(db, device.id), patches, more };
  });

  mount(R.perfkitConfigSet, async ({ c, device, params, body }) => {
    const decls = await declarations(db, device.id, perfkit.get(device.id)?.state);
    const classes = decls.get(params.scope);
    if (!classes) throw new EdgehookError('NOT_FOUND', `device ${device.name} has declared no config ${params.scope}`);
    const entry = findConfigEntry(classes, params.key);
    if (!entry) throw new EdgehookError('NOT_FOUND', `config ${params.scope} has no entry ${params.key}`);
    const bad = checkConfigValue(entry, body.value);
    if (bad) throw new EdgehookError('BAD_REQUEST', `${params.scope}/${params.key} ${bad}`);
    const principal = c.get('principal');
    const r = await setDesired(db, { deviceId: device.id, scope: params.scope, key: params.key, value: body.value, expectedVersion: body.version, by: principal.username, now: deps.clock.now() });
    deps.log.info('perfkit config set', { by: principal.username, device: device.id, scope: params.scope, key: params.key, version: r.version });
    // Retained: an offline device gets it when it connects; a failure here is repaired by its next hello.
    await perfkit.publishDesired(device.id).catch((err: unknown) => deps.log.warn('desired configs not published', { device: device.id, err }));
    return { scope: params.scope, key: params.key, value: body.value, version: r.version, seq: r.seq };
  });

  mount(R.perfkitImage, async ({ c, device, params, query }) => {
    const base = `${device.id}/${params.sid}/${params.name}`;
    const send = (f: Frame, cache: 'hit' | 'miss') =>
      c.body(new Uint8Array(f.jpeg), 200, { 'Content-Type': 'image/jpeg', 'Cache-Control': 'no-store', 'X-Perfkit-Seq': String(f.seq), 'X-Perfkit-Cache': cache, 'X-Image-Width': String(f.width), 'X-Image-Height': String(f.height) });
    // A frame by seq never changes: when this replica has it, the device is not asked.
    if (query.seq !== undefined) {
      const hit = frames.get(`${base}/${query.seq}`);
      if (hit) return send(hit, 'hit');
    }
    if (!deps.relay) throw new EdgehookError('ENGINE_UNAVAILABLE', 'device streams are not available on this control plane');
    requireOnline(device);
    const f = await fetchFrame(deps.relay, device.id, { session: params.sid, image: params.name, ...(query.seq !== undefined ? { seq: query.seq } : {}) });
    frames.set(`${base}/${f.seq}`, f);
    return send(f, 'miss');
  });

  mount(R.perfkitInteract, async ({ c, device, params, body }) => {
    const r = await deps.rpc.call(device.id, 'perfkit.interact', { session: params.sid, image: params.name, events: body.events }, { timeoutMs: 10_000 });
    deps.log.info('perfkit interaction', { by: c.get('principal').username, device: device.id, session: params.sid, image: params.name, events: body.events.length });
    return r;
  });

  return app;
}
