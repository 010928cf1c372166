import { EngineState } from '@edgehook/shared';
import type { RuntimeContainer, RuntimeEvent } from './container-runtime.js';
import { EventJson, type InspectJson } from './docker-schemas.js';

/** Docker Engine API JSON -> the runtime's types (pure; engine differences are smoothed here). */

/** Docker's "never" timestamp (and Podman's). */
const ZERO_TIME = /^0001-01-01/;

/** `repo/name:tag` or `name@sha256:...` -> the pull query. */
export function splitImage(image: string): { name: string; tag: string } {
  const at = image.indexOf('@');
  if (at !== -1) return { name: image.slice(0, at), tag: image.slice(at + 1) };
  const colon = image.lastIndexOf(':');
  if (colon > image.lastIndexOf('/')) return { name: image.slice(0, colon), tag: image.slice(colon + 1) };
  return { name: image, tag: 'latest' };
}

function time(value: string | null | undefined): number | null {
  if (!value || ZERO_TIME.test(value)) return null;
  const ms = Date.parse(value);
  return Number.isFinite(ms) ? ms : null;
}

/** Podman says "configured"/"stopped" where Docker says "created"/"exited". */
function engineState(status: string): EngineState {
  const s = EngineState.safeParse(status);
  if (s.success) return s.data;
  if (status === 'stopped' || status === 'stopping') return 'exited';
  return 'created';
}

function humanStatus(state: EngineState, exitCode: number): string {
  if (state === 'running') return 'Up';
  if (state === 'exited') return `Exited (${exitCode})`;
  return state.charAt(0).toUpperCase() + state.slice(1);
}

export function toRuntimeContainer(j: InspectJson): RuntimeContainer {
  const state = engineState(j.State.Status);
  const exited = state === 'exited' || state === 'dead';
  const ports: RuntimeContainer['ports'] = [];
  const seen = new Set<string>();
  const add = (key: string, host: number | null): void => {
    const [port, protocol = 'tcp'] = key.split('/');
    const container = Number(port);
    const id = `${container}/${protocol}/${host}`;
    if (!Number.isInteger(container) || seen.has(id)) return;
    seen.add(id);
    ports.push({ container, host, protocol });
  };
  // Declared bindings, stable whatever the state (Docker clears NetworkSettings.Ports when stopped).
  for (const [key, list] of Object.entries(j.HostConfig?.PortBindings ?? {})) {
    const hosts = (list ?? []).map((b) => Number(b.HostPort)).filter((n) => Number.isInteger(n) && n > 0);
    if (hosts.length === 0) add(key, null);
    for (const h of hosts) add(key, h);
  }
  for (const key of Object.keys(j.Config?.ExposedPorts ?? {})) if (![...seen].some((s) => s.startsWith(`${key}/`))) add(key, null);
  return {
    id: j.Id,
    name: j.Name.replace(/^\//, ''),
    image: j.Config?.Image ?? j.Image,
    state,
    status: humanStatus(state, j.State.ExitCode),
    labels: j.Config?.Labels ?? {},
    createdAt: time(j.Created) ?? 0,
    startedAt: time(j.State.StartedAt),
    finishedAt: time(j.State.FinishedAt),
    exitCode: exited ? j.State.ExitCode : null,
    tty: j.Config?.Tty ?? false,
    ports,
  };
}

export function toRuntimeEvent(line: string): RuntimeEvent | null {
  let raw: unknown;
  try {
    raw = JSON.parse(line);
  } catch {
    return null;
  }
  const e = EventJson.safeParse(raw);
  if (!e.success) return null;
  const id = e.data.Actor?.ID ?? e.data.id;
  const action = e.data.Action ?? e.data.status;
  if (!id || !action || (e.data.Type !== undefined && e.data.Type !== 'container')) return null;
  const attrs = e.data.Actor?.Attributes ?? {};
  const code = attrs['exitCode'] ?? attrs['containerExitCode'];
  const event: RuntimeEvent = {
    id,
    action: action === 'remove' ? 'destroy' : action,
    time: e.data.timeNano !== undefined ? Math.floor(e.data.timeNano / 1e6) : (e.data.time ?? 0) * 1000,
  };
  if (action === 'die' && code !== undefined && /^-?\d+$/.test(code)) event.exitCode = Number(code);
  return event;
}
