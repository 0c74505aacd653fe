import 'reflect-metadata';
import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';
import { parseArgs } from 'node:util';
import type { EntityManager } from '@mikro-orm/knex';
import { ConfigError, loadConfig } from '../../core/config.js';
import { Role } from '../../core/db/entities/index.js';
import { openOrm } from '../../core/db/orm.js';
import { DomainError } from '../../core/errors.js';
import { AccountService } from '../services/account.service.js';

const USAGE = `npm run user -- <command>
  list                                              the users
  create --email E --name N [--role ADMIN|EDITOR|VIEWER]   a user (role EDITOR unless given)
  reset-password --email E                          a new password; ends the user's sessions
The password is read from standard input (piped), or asked for twice when it is a terminal;
never give it as an argument: other users of the machine can read a command line.`;

/** Works on the database of DATABASE_URL (or DATA_DIR's SQLite file) with no server running. */
async function main(argv: string[]): Promise<void> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { email: { type: 'string' }, name: { type: 'string' }, role: { type: 'string', default: Role.EDITOR } },
  });
  const command = positionals[0];
  if (!command || !['list', 'create', 'reset-password'].includes(command) || positionals.length > 1) throw new UsageError(USAGE);
  const config = loadConfig();
  const orm = await openOrm({ database: config.database });
  try {
    const accounts = new AccountService(orm.em.fork() as EntityManager);
    if (command === 'list') {
      const users = await accounts.list();
      if (users.length === 0) console.log('No users yet.');
      for (const u of users) console.log([u.email, u.role, JSON.stringify(u.name), u.disabled ? 'disabled' : 'active', u.createdAt.toISOString()].join('\t'));
      return;
    }
    if (!values.email) throw new UsageError(`--email is required\n\n${USAGE}`);
    if (command === 'create') {
      if (!values.name) throw new UsageError(`--name is required\n\n${USAGE}`);
      const password = await readPassword();
      const user = await accounts.createUser({ email: values.email, name: values.name, role: values.role as Role, password });
      console.log(`Created ${user.role} ${user.email}.`);
    } else {
      const user = await accounts.resetPassword(values.email, await readPassword());
      console.log(`New password set for ${user.email}; their sessions have ended.`);
    }
  } finally {
    await orm.close();
  }
}

class UsageError extends Error {}

/** The password: stdin's text without its final line break, or typed twice at a terminal without echo. */
async function readPassword(): Promise<string> {
  if (!process.stdin.isTTY) {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
  }
  const first = await ask('Password: ');
  const second = await ask('Again: ');
  if (first !== second) throw new UsageError('the two passwords differ');
  return first;
}

function ask(prompt: string): Promise<string> {
  process.stdout.write(prompt);
  const silent = new Writable({ write: (_chunk, _encoding, done) => done() });
  const rl = createInterface({ input: process.stdin, output: silent, terminal: true });
  return new Promise((resolve) => {
    rl.question('', (answer) => {
      rl.close();
      process.stdout.write('\n');
      resolve(answer);
    });
  });
}

try {
  await main(process.argv.slice(2));
} catch (error) {
  const known = error instanceof UsageError || error instanceof DomainError || error instanceof ConfigError;
  console.error(known ? (error as Error).message : error);
  process.exitCode = error instanceof UsageError ? 2 : 1;
}
