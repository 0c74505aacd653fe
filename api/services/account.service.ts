import { UniqueConstraintViolationException } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/knex';
import { hashPassword, passwordProblem } from '../../core/auth/passwords.js';
import { Role, UserAccount } from '../../core/db/entities/index.js';
import { BadUserInputError, ConflictError, NotFoundError } from '../../core/errors.js';
import { checkName, normalizeEmail } from '../../core/validation.js';
import { checkRole } from '../../core/auth/roles.js';
import { closeSessions } from '../auth/sessions.js';

/** RFC 5321's bound on an address. */
const MAX_EMAIL_LENGTH = 320;

export interface CreateUserRequest {
  email: string;
  name: string;
  password: string;
  role: Role;
}

/**
 * The login name: trimmed, Unicode NFC, lowercased, one "@" with something on each side and no
 * whitespace or control characters. Two spellings of one address are one account.
 */
export function checkEmail(value: string | null | undefined, field = 'email'): string {
  const email = normalizeEmail(value);
  if (email.length === 0) throw new BadUserInputError(field, `${field} is required`);
  if (email.length > MAX_EMAIL_LENGTH) throw new BadUserInputError(field, `${field} is ${email.length} characters long; the limit is ${MAX_EMAIL_LENGTH}`);
  // eslint-disable-next-line no-control-regex
  if (!/^[^\s@\u0000-\u001f\u007f]+@[^\s@\u0000-\u001f\u007f]+$/u.test(email)) throw new BadUserInputError(field, `${field} must be an address like name@example.com`);
  return email;
}

function checkPassword(password: string, field = 'password'): void {
  const problem = passwordProblem(password);
  if (problem) throw new BadUserInputError(field, problem);
}

/** Accounts: people who sign in, with a role; passwords only as scrypt hashes. */
export class AccountService {
  constructor(private readonly em: EntityManager) {}

  /** Every user, by email. */
  list(): Promise<UserAccount[]> {
    return this.em.find(UserAccount, {}, { orderBy: { email: 'asc' } });
  }

  count(): Promise<number> {
    return this.em.count(UserAccount, {});
  }

  findByEmail(email: string): Promise<UserAccount | null> {
    return this.em.findOne(UserAccount, { email: checkEmail(email) });
  }

  /** A new user; CONFLICT when the address is taken (in any spelling). */
  async createUser(input: CreateUserRequest): Promise<UserAccount> {
    const email = checkEmail(input.email);
    const name = checkName(input.name);
    checkRole(input.role);
    checkPassword(input.password);
    const passwordHash = await hashPassword(input.password);
    const taken = () => new ConflictError('email', `a user with the email ${JSON.stringify(email)} already exists`);
    try {
      return await this.em.transactional(async (tx) => {
        if (await tx.findOne(UserAccount, { email }, { fields: ['id'] })) throw taken();
        const user = tx.create(UserAccount, { email, name, role: input.role, passwordHash });
        await tx.flush();
        return user;
      });
    } catch (error) {
      // Another process created the address between the check and the insert.
      if (error instanceof UniqueConstraintViolationException) throw taken();
      throw error;
    }
  }

  /**
   * Changes a user's role or disables them. The last enabled admin can be neither demoted nor
   * disabled (CONFLICT): someone must be able to manage users. Disabling ends their sessions.
   */
  async updateUser(id: string, input: { role?: Role | null; disabled?: boolean | null }): Promise<UserAccount> {
    if (input.role != null) checkRole(input.role);
    return this.em.transactional(async (tx) => {
      const user = await tx.findOne(UserAccount, { id: String(id) });
      if (!user) throw new NotFoundError('User', String(id), 'id');
      const role = input.role ?? user.role;
      const disabled = input.disabled ?? user.disabled;
      const losesAdmin = user.role === Role.ADMIN && !user.disabled && (role !== Role.ADMIN || disabled);
      if (losesAdmin && (await tx.count(UserAccount, { role: Role.ADMIN, disabled: false })) <= 1) {
        throw new ConflictError(input.disabled ? 'disabled' : 'role', `${user.email} is the last enabled admin: make another user admin first`);
      }
      if (disabled && !user.disabled) await closeSessions(tx, user.id);
      user.role = role;
      user.disabled = disabled;
      await tx.flush();
      return user;
    });
  }


  /** Sets a new password and ends every session of the user. */
  async resetPassword(email: string, password: string, field = 'password'): Promise<UserAccount> {
    const address = checkEmail(email);
    checkPassword(password, field);
    const passwordHash = await hashPassword(password);
    return this.em.transactional(async (tx) => {
      const user = await tx.findOne(UserAccount, { email: address });
      if (!user) throw new NotFoundError('User', address, 'email');
      user.passwordHash = passwordHash;
      user.passwordChangedAt = new Date();
      await closeSessions(tx, user.id);
      await tx.flush();
      return user;
    });
  }
}
