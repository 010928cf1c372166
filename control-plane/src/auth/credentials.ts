/**
 * Pulls credentials out of a request the way PiKVM and Encedeus clients send them.
 * Order as kvmd: X-KVMD-User/X-KVMD-Passwd (or X-Edgehook-*), then the auth_token cookie,
 * then HTTP Basic, then a Bearer token.
 */
export type PresentedCredentials =
  | { kind: 'none' }
  | { kind: 'password'; login: string; password: string }
  | { kind: 'token'; token: string; via: 'cookie' | 'bearer' };

export type HeaderGetter = (name: string) => string | undefined;

export const ACCESS_COOKIE = 'auth_token';
export const REFRESH_COOKIE = 'refresh_token';

export function readCookie(cookieHeader: string | undefined, name: string): string | undefined {
  if (!cookieHeader) return undefined;
  for (const part of cookieHeader.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) {
      const raw = part.slice(eq + 1).trim();
      try {
        return decodeURIComponent(raw);
      } catch {
        return raw;
      }
    }
  }
  return undefined;
}

export function bearerToken(authorization: string | undefined): string | undefined {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
  return m?.[1];
}

export function readCredentials(header: HeaderGetter): PresentedCredentials {
  const user = header('x-kvmd-user') ?? header('x-edgehook-user');
  const passwd = header('x-kvmd-passwd') ?? header('x-edgehook-passwd');
  if (user !== undefined || passwd !== undefined) return { kind: 'password', login: user ?? '', password: passwd ?? '' };

  const cookie = readCookie(header('cookie'), ACCESS_COOKIE);
  if (cookie) return { kind: 'token', token: cookie, via: 'cookie' };

  const authorization = header('authorization');
  const basic = /^Basic\s+(\S+)\s*$/i.exec(authorization ?? '');
  if (basic?.[1]) {
    const decoded = Buffer.from(basic[1], 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    return colon < 0 ? { kind: 'password', login: decoded, password: '' } : { kind: 'password', login: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
  }
  const bearer = bearerToken(authorization);
  if (bearer) return { kind: 'token', token: bearer, via: 'bearer' };
  return { kind: 'none' };
}
