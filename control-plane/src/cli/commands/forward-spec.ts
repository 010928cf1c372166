import * as z from '@edgehook/shared/zod';
import { transformIssue } from '@edgehook/shared/zod';
import { ForwardHost, ForwardPort } from '@edgehook/shared';

/** `[LOCAL:]HOST:PORT` as `ssh -L` writes it; an IPv6 HOST goes in brackets. LOCAL 0 or absent: a free port. */
export interface ForwardTarget {
  local: number;
  host: string;
  port: number;
}

const LocalPort = z.coerce.number().check(z.int(), z.gte(0), z.lte(65535));
const SPEC = /^(?:(\d+):)?(\[[^\]]+\]|[^:[\]]+):(\d+)$/;

export const ForwardTargetSpec = z.pipe(z.string(), z.transform((text, ctx): ForwardTarget => {
  const m = SPEC.exec(text.trim());
  if (!m) {
    transformIssue(ctx, `"${text}" is not [LOCAL:]HOST:PORT (e.g. 8080:127.0.0.1:80 or 192.168.1.20:22)`);
    return z.NEVER;
  }
  const host = ForwardHost.safeParse((m[2] ?? '').replace(/^\[(.*)\]$/, '$1'));
  const port = ForwardPort.safeParse(m[3]);
  const local = LocalPort.safeParse(m[1] ?? '0');
  if (!host.success) transformIssue(ctx, `host "${m[2]}": ${host.error.issues[0]?.message ?? 'invalid'}`);
  if (!port.success) transformIssue(ctx, `port ${m[3]}: must be 1 to 65535`);
  if (!local.success) transformIssue(ctx, `local port ${m[1]}: must be 0 to 65535`);
  if (!host.success || !port.success || !local.success) return z.NEVER;
  return { local: local.data, host: host.data, port: port.data };
}));
