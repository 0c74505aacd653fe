import { randomBytes, scrypt as scryptCallback, timingSafeEqual, type ScryptOptions } from 'node:crypto';

/**
 * Password hashing with scrypt at OWASP's parameters (cost 2^17, block size 8, parallelism 1:
 * 128 MiB and a few hundred milliseconds per hash, on libuv's thread pool). A stored hash says its
 * parameters, so they can rise later: `needsRehash` tells when a login should store a new one.
 */
export const SCRYPT = { N: 2 ** 17, r: 8, p: 1 } as const;
const KEY_BYTES = 32;
const SALT_BYTES = 16;
const PREFIX = 'scrypt';

/** Longer passwords are refused (hashing cost grows with length; no one types more). */
export const MAX_PASSWORD_LENGTH = 1_024;
/** OWASP's minimum for passwords without other factors. */
export const MIN_PASSWORD_LENGTH = 12;

export class PasswordPolicyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PasswordPolicyError';
  }
}

/** Why this password may not be set, or null when it may. */
export function passwordProblem(password: string): string | null {
  const length = [...password].length;
  if (length < MIN_PASSWORD_LENGTH) return `a password needs at least ${MIN_PASSWORD_LENGTH} characters`;
  if (length > MAX_PASSWORD_LENGTH) return `a password may have at most ${MAX_PASSWORD_LENGTH} characters`;
  return null;
}

/**
 * At most this many hashes at once per process: each takes 128 MiB, and a burst of logins must
 * neither exhaust memory nor take every thread of the pool the file system also uses. The others wait.
 */
const MAX_CONCURRENT_HASHES = 2;
/** At most this many wait for a turn (about 10 s of work); more are refused at once rather than queued without end. */
export const MAX_WAITING_HASHES = 32;
let hashing = 0;
const waiting: (() => void)[] = [];

/** Too many passwords are being checked at once in this process: the caller should try again shortly. */
export class PasswordsBusyError extends Error {
  constructor() {
    super('too many passwords are being checked at once; try again in a moment');
    this.name = 'PasswordsBusyError';
  }
}

async function inHashTurn<T>(work: () => Promise<T>): Promise<T> {
  if (hashing >= MAX_CONCURRENT_HASHES) {
    if (waiting.length >= MAX_WAITING_HASHES) throw new PasswordsBusyError();
    await new Promise<void>((resolve) => waiting.push(resolve));
  } else hashing++;
  try {
    return await work();
  } finally {
    const next = waiting.shift();
    if (next) next(); // the turn passes on: `hashing` stays counted
    else hashing--;
  }
}

function derive(password: string, salt: Buffer, params: { N: number; r: number; p: number }): Promise<Buffer> {
  const options: ScryptOptions = { ...params, maxmem: 256 * params.N * params.r + 1024 * 1024 };
  return new Promise((resolve, reject) => {
    scryptCallback(password.normalize('NFC'), salt, KEY_BYTES, options, (error, key) => (error ? reject(error) : resolve(key)));
  });
}

/** The stored form of a password: `scrypt$N$r$p$salt$key` (base64url), refusing one the policy does not allow. */
export async function hashPassword(password: string): Promise<string> {
  const problem = passwordProblem(password);
  if (problem) throw new PasswordPolicyError(problem);
  const salt = randomBytes(SALT_BYTES);
  const key = await inHashTurn(() => derive(password, salt, SCRYPT));
  return [PREFIX, SCRYPT.N, SCRYPT.r, SCRYPT.p, salt.toString('base64url'), key.toString('base64url')].join('$');
}

function parse(stored: string): { N: number; r: number; p: number; salt: Buffer; key: Buffer } | null {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== PREFIX) return null;
  const [N, r, p] = parts.slice(1, 4).map(Number) as [number, number, number];
  if (![N, r, p].every((n) => Number.isSafeInteger(n) && n > 0) || N > 2 ** 20 || r > 32 || p > 16) return null;
  return { N, r, p, salt: Buffer.from(parts[4]!, 'base64url'), key: Buffer.from(parts[5]!, 'base64url') };
}

/** Whether `password` matches the stored hash (false for a hash in no form this code knows). */
export function verifyPassword(password: string, stored: string): Promise<boolean> {
  return inHashTurn(() => verifyNow(password, stored));
}

/**
 * Runs `work` in one of the process's hashing turns, with a `verify` that takes no further turn:
 * a login checks its throttle, verifies and records the outcome in one turn, so a burst of
 * guesses is judged one after another rather than all before the first failure is counted.
 */
export function passwordTurn<T>(work: (verify: (password: string, stored: string) => Promise<boolean>) => Promise<T>): Promise<T> {
  return inHashTurn(() => work(verifyNow));
}

/**
 * A hash of a random password nobody knows: verified against when an address has no account, so
 * a login takes as long whether or not the account exists.
 */
export const UNKNOWN_ACCOUNT_HASH = 'scrypt$131072$8$1$jDM5XFTe0Khzv981QXgy7Q$Iz1wGR3-zPIDZB3rt0KG4Uy6B0k_IXqvqGH13zGUCyE';

async function verifyNow(password: string, stored: string): Promise<boolean> {
  const parsed = parse(stored);
  if (!parsed || parsed.key.length !== KEY_BYTES || password.length > 2 * MAX_PASSWORD_LENGTH || [...password].length > MAX_PASSWORD_LENGTH) return false;
  const key = await derive(password, parsed.salt, parsed);
  return timingSafeEqual(key, parsed.key);
}

/** The stored hash was made with other parameters than today's. */
export function needsRehash(stored: string): boolean {
  const parsed = parse(stored);
  return !parsed || parsed.N !== SCRYPT.N || parsed.r !== SCRYPT.r || parsed.p !== SCRYPT.p;
}
