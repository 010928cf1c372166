import type { IncomingMessage, ServerResponse } from 'node:http';
import * as z from '@edgehook/shared/zod';
import { ConfigDecl, EdgehookError, ImageName, PerfkitSessionId, ReportedPush, SessionRegister, validate } from '@edgehook/shared';
import { readBody, readJson, reply, replyError, type LocalRoutes } from '../telemetry/local-http.js';
import type { SessionRegistry } from './session-registry.js';

const MAX_JSON = 256 * 1024;
export const MAX_IMAGE = 2 * 1024 * 1024;
const MAX_WAIT_MS = 60_000;

const Wait = z._default(z.coerce.number({ message: 'wait must be milliseconds' }).check(z.int(), z.gte(0), z.lte(MAX_WAIT_MS, `wait is at most ${MAX_WAIT_MS} ms`)), 0);
const After = z._default(z.coerce.number({ message: 'after must be a number' }).check(z.int(), z.gte(0)), 0);
const Dim = z._default(z.coerce.number().check(z.int(), z.gte(0), z.lte(65535)), 0);

function parse<S extends z.ZodMiniType>(schema: S, value: unknown, what: string): z.output<S> {
  const r = validate(schema, value);
  if (!r.ok) throw new EdgehookError('BAD_REQUEST', `invalid ${what}: ${r.error}`);
  return r.value;
}

/** JPEG width and height from its SOF marker, or zeros when it has none (still accepted). */
export function jpegSize(b: Buffer): { width: number; height: number } {
  let i = 2;
  while (i + 9 < b.length) {
    if (b[i] !== 0xff) return { width: 0, height: 0 };
    const marker = b[i + 1] ?? 0;
    const len = b.readUInt16BE(i + 2);
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) return { height: b.readUInt16BE(i + 5), width: b.readUInt16BE(i + 7) };
    i += 2 + len;
  }
  return { width: 0, height: 0 };
}

/**
 * The sessions API of the local endpoint (beside `POST /v1/traces`):
 *   POST   /v1/sessions                          register {name, pid, machine?, description?, startedAt?}
 *   GET    /v1/sessions                          the sessions
 *   DELETE /v1/sessions/:sid                     end it
 *   PUT    /v1/sessions/:sid/config              declare {classes}
 *   GET    /v1/sessions/:sid/config?after=&wait= desired values (long-poll until rev > after)
 *   POST   /v1/sessions/:sid/config/reported     {entries: [{key, value, version}]} the applied values
 *   PUT    /v1/sessions/:sid/images/:name        a JPEG frame (image/jpeg)
 *   GET    /v1/sessions/:sid/interactions?after=&wait=   key and mouse events (long-poll)
 */
export function perfkitLocalRoutes(registry: SessionRegistry): LocalRoutes {
  const handle = async (req: IncomingMessage, res: ServerResponse, url: URL, parts: string[]): Promise<void> => {
    const method = req.method ?? 'GET';
    const q = Object.fromEntries(url.searchParams);
    if (parts.length === 0) {
      if (method === 'POST') return reply(res, 201, registry.register(parse(SessionRegister, await readJson(req, MAX_JSON), 'session')));
      if (method === 'GET') return reply(res, 200, { sessions: registry.list() });
      throw new EdgehookError('BAD_REQUEST', `use GET or POST on /v1/sessions, not ${method}`);
    }
    const sid = parse(PerfkitSessionId, parts[0], 'session id');
    const [, sub, name, more] = parts;
    if (sub === undefined) {
      if (method === 'GET') {
        registry.get(sid);
        return reply(res, 200, registry.list().find((x) => x.id === sid));
      }
      if (method === 'DELETE') return reply(res, 200, registry.endSession(sid));
    } else if (sub === 'config' && name === undefined) {
      const s = registry.live(sid);
      if (method === 'PUT') {
        registry.declare(s.info.name, parse(ConfigDecl, await readJson(req, MAX_JSON), 'config declaration').classes);
        return reply(res, 200, registry.desiredFor(s.info.name));
      }
      if (method === 'GET') {
        const after = parse(After, q['after'], 'after');
        const wait = parse(Wait, q['wait'], 'wait');
        const deadline = Date.now() + wait;
        while (registry.desiredFor(s.info.name).rev <= after && Date.now() < deadline && s.info.endedAt === null && !res.destroyed) await registry.nextChange(deadline - Date.now());
        return reply(res, 200, registry.desiredFor(s.info.name));
      }
    } else if (sub === 'config' && name === 'reported' && more === undefined && method === 'POST') {
      const s = registry.live(sid);
      registry.report(s.info.name, parse(ReportedPush, await readJson(req, MAX_JSON), 'reported values').entries);
      return reply(res, 200, { ok: true });
    } else if (sub === 'images' && name !== undefined && more === undefined && method === 'PUT') {
      const image = parse(ImageName, name, 'image name');
      registry.live(sid);
      const type = req.headers['content-type'] ?? '';
      if (!type.startsWith('image/jpeg')) throw new EdgehookError('UNSUPPORTED_MEDIA_TYPE', 'send the frame as image/jpeg');
      const jpeg = await readBody(req, MAX_IMAGE);
      if (jpeg.length < 4 || jpeg[0] !== 0xff || jpeg[1] !== 0xd8) throw new EdgehookError('BAD_REQUEST', 'the body is not a JPEG (no SOI marker)');
      const size = jpegSize(jpeg);
      const f = registry.putImage(sid, image, { jpeg, width: size.width || parse(Dim, q['width'], 'width'), height: size.height || parse(Dim, q['height'], 'height') });
      return reply(res, 200, { seq: f.seq, width: f.width, height: f.height });
    } else if (sub === 'interactions' && name === undefined && method === 'GET') {
      const after = parse(After, q['after'], 'after');
      const wait = parse(Wait, q['wait'], 'wait');
      const deadline = Date.now() + wait;
      let events = registry.interactionsAfter(sid, after);
      while (events.length === 0 && Date.now() < deadline && !res.destroyed) {
        await registry.nextChange(deadline - Date.now());
        events = registry.interactionsAfter(sid, after);
      }
      return reply(res, 200, { events, last: events.at(-1)?.seq ?? after });
    }
    throw new EdgehookError('NOT_FOUND', `no route for ${method} ${url.pathname}`);
  };
  return (req, res, url) => {
    if (url.pathname !== '/v1/sessions' && !url.pathname.startsWith('/v1/sessions/')) return false;
    let parts: string[];
    try {
      parts = url.pathname.split('/').slice(3).filter((p) => p !== '').map((p) => decodeURIComponent(p));
    } catch {
      replyError(res, new EdgehookError('BAD_REQUEST', 'the path is not valid percent-encoding'));
      return true;
    }
    handle(req, res, url, parts).catch((err: unknown) => replyError(res, err));
    return true;
  };
}
