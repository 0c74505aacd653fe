import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { signIn, TEST_ADMIN_EMAIL, TEST_PASSWORD } from './auth.js';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface Spawned {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | string | null>;
  /** Resolves with the first output line matching `pattern`. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<string>;
}

/** Runs `node --import tsx <script>` from the repository root, as `npm start` does. */
export function spawnTsx(script: string, env: Record<string, string>, args: string[] = []): Spawned {
  const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const listeners: (() => void)[] = [];
  const onData = (chunk: Buffer) => {
    output += chunk.toString();
    listeners.forEach((l) => l());
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  // The exit code, or the signal's name when a signal ended it (so a failed check says which).
  const exited = new Promise<number | string | null>((resolve) => child.on('exit', (code, signal) => resolve(code ?? signal)));
  return {
    child,
    output: () => output,
    exited,
    waitFor(pattern, timeoutMs = 30_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const line = output.split('\n').find((l) => pattern.test(l));
          if (line !== undefined) {
            clearTimeout(timer);
            resolve(line);
          }
        };
        const timer = setTimeout(() => reject(new Error(`timed out waiting for ${pattern}; output so far:\n${output}`)), timeoutMs);
        listeners.push(check);
        check();
      });
    },
  };
}

/** The environment the process tests start servers with: any port, quick polling, a fixed key. */
export const PROCESS_ENV = {
  PORT: '0',
  LOG_LEVEL: 'info',
  SCHEDULER_POLL_MS: '200',
  TRIBUTARY_SECRET_KEY: '07'.repeat(32),
  // The first admin, created at start on an empty database; `ok` signs in as them.
  TRIBUTARY_ADMIN_EMAIL: TEST_ADMIN_EMAIL,
  TRIBUTARY_ADMIN_PASSWORD: TEST_PASSWORD,
};

/** A server started as `npm start` does, with a GraphQL client whose `ok` throws on any error. */
export interface ServerProcess {
  proc: Spawned;
  pid: number;
  url: string;
  /** Runs an operation as the first admin (signed in on first use) that must succeed; returns its data. */
  ok(query: string, variables?: Record<string, unknown>): Promise<any>;
}

/** Starts `api/main.ts` in a child process (PROCESS_ENV plus `env`, then `args` such as --no-jobs) and resolves once it listens. */
export async function startServerProcess(env: Record<string, string>, track?: Spawned[], args: string[] = []): Promise<ServerProcess> {
  const proc = spawnTsx('api/main.ts', { ...PROCESS_ENV, ...env }, args);
  track?.push(proc);
  const url = JSON.parse(await proc.waitFor(/Tributary is listening/, 60_000)).url as string;
  let cookie: Promise<string> | undefined;
  const ok = async (query: string, variables?: Record<string, unknown>) => {
    cookie ??= signIn(url, TEST_ADMIN_EMAIL);
    const headers = { 'content-type': 'application/json', cookie: await cookie };
    const response = await fetch(`${url}/graphql`, { method: 'POST', headers, body: JSON.stringify({ query, variables }) });
    const body = (await response.json()) as { data?: any; errors?: unknown[] };
    if (body.errors) throw new Error(JSON.stringify(body.errors));
    return body.data;
  };
  return { proc, pid: proc.child.pid!, url, ok };
}
