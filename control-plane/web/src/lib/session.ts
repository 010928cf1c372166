import { createContext } from 'preact';
import { useContext } from 'preact/hooks';
import type { Permission, UserView } from '@edgehook/shared';

/** Same rule as shared/src/permissions.ts (copied: importing it would pull zod into the bundle). */
export function grantCovers(granted: string, wanted: string): boolean {
  if (granted === '*' || granted === wanted) return true;
  if (granted.endsWith('.*')) return wanted.startsWith(granted.slice(0, -1));
  return false;
}

export interface Session {
  user: UserView;
  can(permission: Permission): boolean;
  logout(): Promise<void>;
}

export function sessionOf(user: UserView, logout: () => Promise<void>): Session {
  return { user, logout, can: (p) => user.permissions.some((g) => grantCovers(g, p)) };
}

export const SessionContext = createContext<Session | null>(null);

export function useSession(): Session {
  const s = useContext(SessionContext);
  if (!s) throw new Error('useSession outside a logged-in page');
  return s;
}
