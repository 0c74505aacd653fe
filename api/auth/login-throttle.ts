import type { EntityManager } from '@mikro-orm/knex';
import { LoginThrottle } from '../../core/db/entities/index.js';
import { AccountRepository } from '../../core/db/repositories/account.repository.js';

/**
 * How failed logins slow the next attempt, per account and per address (OWASP: throttle, do not
 * lock out for good). After `free` failures, each further failure blocks that key for a delay
 * that doubles, from 30 s up to 15 minutes; an hour without failures forgets them. A block
 * refuses attempts without checking the password, so guessing costs the guesser time, not us.
 */
export const THROTTLE = {
  account: { free: 5 },
  address: { free: 20 },
  firstDelayMs: 30_000,
  maxDelayMs: 15 * 60_000,
  forgetAfterMs: 60 * 60_000,
} as const;

export type ThrottleKey = `account:${string}` | `address:${string}`;

function freeFailures(key: ThrottleKey): number {
  return key.startsWith('account:') ? THROTTLE.account.free : THROTTLE.address.free;
}

function delayAfter(failures: number, free: number): number {
  return Math.min(THROTTLE.maxDelayMs, THROTTLE.firstDelayMs * 2 ** Math.min(20, failures - free));
}

/** The attempts refused until the latest of these keys' blocks ends: seconds to wait, or 0. */
export async function blockedFor(em: EntityManager, keys: ThrottleKey[], now = new Date()): Promise<number> {
  const rows = await em.find(LoginThrottle, { key: { $in: keys }, blockedUntil: { $gt: now } });
  const until = Math.max(0, ...rows.map((row) => row.blockedUntil!.getTime()));
  return until > now.getTime() ? Math.ceil((until - now.getTime()) / 1000) : 0;
}

/**
 * Counts a failed attempt against each key, blocking those past their free failures. One
 * statement per key adds the failure (or starts again after a quiet hour), so concurrent failures
 * from several processes all count.
 */
export async function recordFailure(em: EntityManager, keys: ThrottleKey[], now = new Date()): Promise<void> {
  const accounts = new AccountRepository(em);
  const forgetBefore = new Date(now.getTime() - THROTTLE.forgetAfterMs);
  for (const key of keys) {
    const failures = await accounts.countFailure(key, now, forgetBefore);
    const free = freeFailures(key);
    if (failures >= free) await em.nativeUpdate(LoginThrottle, { key }, { blockedUntil: new Date(now.getTime() + delayAfter(failures, free)) });
  }
}

/** A successful login forgets the account's failures (not the address's: one address, many accounts). */
export async function forgetFailures(em: EntityManager, key: ThrottleKey): Promise<void> {
  await em.nativeDelete(LoginThrottle, { key });
}
