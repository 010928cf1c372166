import * as z from '../zod.js';
import { transformIssue } from '../zod.js';
import { TelemetrySnapshot } from './telemetry.js';

/**
 * Quix WSI (seed 003): the websocket between the control server (us, on `/wsi`) and a device
 * backend. Every frame is one JSON object: a request `{auth, req, rid, msg}` or a reply
 * `{rid, msg}`. Both sides send requests: the backend sends `authenticate` and `get_vpn_conf`, we
 * send `execute`, `view_running`, `proc_signal` and `telemetry`.
 */

/** Request ids are the seed's integers; each side numbers its own requests. */
export const WsiRid = z.number().check(z.int(), z.gte(0), z.lte(Number.MAX_SAFE_INTEGER));

/** A request, from either side. `auth` carries the token (null or absent before there is one). */
export const WsiRequest = z.object({
  auth: z.optional(z.nullable(z.string().check(z.maxLength(512)))),
  req: z.string().check(z.minLength(1), z.maxLength(64)),
  rid: WsiRid,
  msg: z.optional(z.unknown()),
});
export type WsiRequest = z.infer<typeof WsiRequest>;

/** A reply: no `req`, the `rid` of the request it answers. */
export const WsiReply = z.object({ rid: WsiRid, msg: z.unknown() });
export type WsiReply = z.infer<typeof WsiReply>;

/** `authenticate` once with a password, then with the token in `auth` and an empty `msg`. */
export const WsiPasswordAuth = z.object({ username: z.string().check(z.minLength(1), z.maxLength(128)), password: z.string().check(z.minLength(1), z.maxLength(1024)) });

/**
 * Failure reasons in the seed's style (`password_invalid`, `token_invalid`); ours add a `message`.
 * Every failure reply is `{success: false, reason, message}` except the result-style verbs
 * (`get_vpn_conf`), whose failure is `{result: 'failure', reason, message}`.
 */
export const WsiReason = z.enum([
  'password_invalid',
  'token_invalid',
  'not_permitted',
  'too_many_attempts',
  'not_authenticated',
  'bad_envelope',
  'bad_request',
  'unknown_request',
  'vpn_not_configured',
  'vpn_failed',
]);
export type WsiReason = z.infer<typeof WsiReason>;

export const WsiAuthReply = z.union([
  z.object({ success: z.literal(true), token: z.optional(z.string()), validity: z.number().check(z.int(), z.nonnegative()) }),
  z.object({ success: z.literal(false), reason: z.string(), message: z.optional(z.string()) }),
]);
export type WsiAuthReply = z.infer<typeof WsiAuthReply>;

/** The backend asks for its VPN configuration. */
export const WsiVpnConfRequest = z.object({ conf_type: z._default(z.literal('wireguard'), 'wireguard'), tun_mode: z._default(z.literal('udp'), 'udp') });
export const WsiVpnConfReply = z.union([
  z.object({ result: z.literal('success'), conf_type: z.literal('wireguard'), conf_data: z.string() }),
  z.object({ result: z.literal('failure'), reason: z.string(), message: z.optional(z.string()) }),
]);
export type WsiVpnConfReply = z.infer<typeof WsiVpnConfReply>;

/** A verb the backend refused: anything but `result: "success"`, maybe with a reason. */
const Refused = z.object({ result: z.string(), reason: z.optional(z.string().check(z.maxLength(1024))) });

/** `execute` -> `{result: "success", proc_id}`. */
export const WsiExecuteReply = z.union([z.object({ result: z.literal('success'), proc_id: z.number().check(z.int()) }), Refused]);

/** One entry of the `view_running` answer, as the seed lists it. */
export const WsiRunning = z.object({
  title: z.string().check(z.maxLength(1024)),
  pid: z.number().check(z.int()),
  cpu_util: z.number(),
  mem_util: z.number(),
  reqc: z.string().check(z.maxLength(65536)),
  port_util: z.array(z.number().check(z.int())).check(z.maxLength(1024)),
});
export type WsiRunning = z.infer<typeof WsiRunning>;

/**
 * The seed writes the list as `msg: { [ ... ] }`, which is not JSON: we take `msg` as the array
 * itself, or an object holding one array (`{running: [...]}`), whichever the backend sends.
 */
export const WsiViewRunningReply = z.union([
  z.array(WsiRunning).check(z.maxLength(4096)),
  z.pipe(z.record(z.string(), z.unknown()), z.transform((o, ctx) => {
      const lists = Object.values(o).filter((v) => Array.isArray(v));
      const parsed = lists.length === 1 ? z.array(WsiRunning).check(z.maxLength(4096)).safeParse(lists[0]) : undefined;
      if (parsed?.success) return parsed.data;
      transformIssue(ctx, 'expected the running list (an array of {title, pid, cpu_util, mem_util, reqc, port_util})');
      return z.NEVER;
    })),
]);

export const WsiSignalReply = z.union([z.object({ result: z.literal('success') }), Refused]);

/** `telemetry` -> `{tele_data}`: the same shape our agents answer (messages/telemetry.ts). */
export const WsiTelemetryReply = TelemetrySnapshot;
