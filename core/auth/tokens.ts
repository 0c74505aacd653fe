import { createHash, randomBytes } from 'node:crypto';

/**
 * Secrets handed to a browser or a machine (session cookies, API tokens, the first-admin setup
 * token): 32 random bytes, base64url, after a prefix that says what they are (so a leaked one is
 * recognisable, as GitHub's `ghp_` tokens are). Only their SHA-256 is stored: a token has all the
 * entropy it needs, so a slow hash would only slow every request.
 */
export const TOKEN_PREFIXES = { session: 'trs_', api: 'trt_', setup: 'tru_' } as const;
export type TokenKind = keyof typeof TOKEN_PREFIXES;

const TOKEN_BYTES = 32;
const TOKEN_BODY = /^[A-Za-z0-9_-]{43}$/;

export function newToken(kind: TokenKind): string {
  return TOKEN_PREFIXES[kind] + randomBytes(TOKEN_BYTES).toString('base64url');
}

/** What is stored for a token (hex SHA-256). */
export function tokenHash(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** Whether `value` has the shape of a token of this kind (checked before any lookup). */
export function isToken(kind: TokenKind, value: string): boolean {
  const prefix = TOKEN_PREFIXES[kind];
  return value.startsWith(prefix) && TOKEN_BODY.test(value.slice(prefix.length));
}
