import { gql } from '../lib/graphql.js';

export type Role = 'VIEWER' | 'EDITOR' | 'ADMIN';

export interface Me {
  id: string;
  email: string;
  name: string;
  role: Role;
}

const RANK: Record<Role, number> = { VIEWER: 1, EDITOR: 2, ADMIN: 3 };

/** Who is signed in (loaded once by App.svelte); pages read it to hide what the role may not use. */
export const session = $state<{ me: Me | null; loaded: boolean }>({ me: null, loaded: false });

export async function loadMe(): Promise<Me | null> {
  const data = await gql<{ me: Me | null }>('{ me { id email name role } }');
  session.me = data.me;
  session.loaded = true;
  return data.me;
}

/** Whether the signed-in user's role allows what `needed` allows. */
export function can(needed: Role): boolean {
  return session.me !== null && RANK[session.me.role] >= RANK[needed];
}

/** Pages that answer without a session. */
export const PUBLIC_PATHS = ['/login', '/setup'];

/**
 * Where to go back to after signing in: a path of this site only (never `//other.example` or
 * `https://…`, which would make the login page an open redirect).
 */
export function safeNext(value: string | null): string {
  if (!value || !value.startsWith('/')) return '/';
  // Resolved as the browser would (which drops tabs and newlines: "/\t/evil.example" is "//evil.example").
  const url = new URL(value, window.location.origin);
  return url.origin === window.location.origin ? url.pathname + url.search + url.hash : '/';
}

/** To the login page, coming back here afterwards. */
export function toLogin(): void {
  const here = window.location.pathname + window.location.search;
  if (PUBLIC_PATHS.includes(window.location.pathname)) return;
  window.location.assign(`/login?next=${encodeURIComponent(here)}`);
}

export async function logout(): Promise<void> {
  await gql<{ logout: boolean }>('mutation { logout }');
  window.location.assign('/login');
}
