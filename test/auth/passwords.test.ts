import { describe, expect, it } from 'vitest';
import { MAX_PASSWORD_LENGTH, PasswordPolicyError, SCRYPT, hashPassword, needsRehash, passwordProblem, verifyPassword } from '../../core/auth/passwords.js';
import { TOKEN_PREFIXES, isToken, newToken, tokenHash } from '../../core/auth/tokens.js';

describe('password hashes', () => {
  it('verify the password they were made from and nothing else, each with its own salt', async () => {
    const stored = await hashPassword('correct horse battery');
    expect(stored).toMatch(new RegExp(`^scrypt\\$${SCRYPT.N}\\$${SCRYPT.r}\\$${SCRYPT.p}\\$[\\w-]{22}\\$[\\w-]{43}$`));
    expect(stored).not.toContain('correct horse');
    expect(await verifyPassword('correct horse battery', stored)).toBe(true);
    expect(await verifyPassword('correct horse batterY', stored)).toBe(false);
    expect(await verifyPassword('', stored)).toBe(false);
    expect(await hashPassword('correct horse battery')).not.toBe(stored);
    expect(needsRehash(stored)).toBe(false);
  });

  it('treat the same text in either Unicode form as the same password', async () => {
    const composed = 'caf\u00e9 au lait noir';
    const stored = await hashPassword(composed);
    expect(await verifyPassword(composed.normalize('NFD'), stored)).toBe(true);
  });

  it('refuse stored hashes they did not make, and parameters that would stall the server, without hashing', async () => {
    const stored = await hashPassword('correct horse battery');
    const [, , , , salt, key] = stored.split('$');
    for (const forged of [`scrypt$${2 ** 30}$8$1$${salt}$${key}`, `scrypt$${SCRYPT.N}$8$1$${salt}$AAAA`, `bcrypt$x`, '', `scrypt$0$8$1$${salt}$${key}`]) {
      expect(await verifyPassword('correct horse battery', forged)).toBe(false);
    }
    // (Without the check, a cost of 2^30 would make scrypt ask for 1 TiB: the call would throw.)
    expect(needsRehash(`scrypt$${2 ** 14}$8$1$${salt}$${key}`)).toBe(true);
  });

  it('refuse passwords that are too short or too long, naming the bound', async () => {
    expect(passwordProblem('short')).toMatch(/at least 12 characters/);
    await expect(hashPassword('short')).rejects.toBeInstanceOf(PasswordPolicyError);
    await expect(hashPassword('x'.repeat(MAX_PASSWORD_LENGTH + 1))).rejects.toThrow(/at most 1024 characters/);
    expect(await verifyPassword('x'.repeat(10 * MAX_PASSWORD_LENGTH), await hashPassword('x'.repeat(20)))).toBe(false);
  });
});

describe('tokens', () => {
  it('say what they are, are unguessable, and are stored only as a hash', () => {
    const tokens = Array.from({ length: 100 }, () => newToken('api'));
    expect(new Set(tokens).size).toBe(100);
    for (const token of tokens) {
      expect(token.startsWith(TOKEN_PREFIXES.api)).toBe(true);
      expect(isToken('api', token)).toBe(true);
      expect(isToken('session', token)).toBe(false);
      expect(tokenHash(token)).toMatch(/^[0-9a-f]{64}$/);
      expect(tokenHash(token)).toBe(tokenHash(token));
    }
    expect(isToken('api', `${TOKEN_PREFIXES.api}short`)).toBe(false);
    expect(isToken('api', `${tokens[0]!}\n`)).toBe(false);
  });
});
