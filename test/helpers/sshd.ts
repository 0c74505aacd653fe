import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';

/** sshd must be started by absolute path: it re-executes itself for each connection. */
export const SSHD = '/usr/sbin/sshd';

/** True when the tests run as root: only then can a throwaway system user (password auth) be created. */
export const IS_ROOT = process.getuid?.() === 0;

export interface PasswordUser {
  username: string;
  password: string;
  /** A directory the user owns (its home), where its files go. */
  dir: string;
}

/** A throwaway OpenSSH server on 127.0.0.1 serving the local file system over SFTP. */
export interface SshServer {
  host: string;
  port: number;
  /** The user the tests log in as with `privateKey` (the current user). */
  username: string;
  /** OpenSSH-format private key whose public half is in authorized_keys. */
  privateKey: string;
  /** The host key's fingerprint as `ssh-keygen -lf` prints it ("SHA256:…"). */
  hostKeyFingerprint: string;
  /** A new empty directory (absolute path) the login user can read and write: a remote dir. */
  newDir(): string;
  /** Stops sshd and starts it again on the same port, with a freshly generated host key if asked. */
  restart(options?: { newHostKey?: boolean }): Promise<void>;
  /** Root only: a system user with a known password, deleted again by `stop`. */
  createPasswordUser(): PasswordUser;
  /** sshd's output so far (for failure messages). */
  output(): string;
  stop(): Promise<void>;
}

/** Starts sshd as the current user; fails with a clear message when openssh-server is not installed. */
export async function startSshd(): Promise<SshServer> {
  if (!existsSync(SSHD)) {
    throw new Error(`${SSHD} is missing: the SFTP tests need a real OpenSSH server; install openssh-server (apt-get install openssh-server)`);
  }
  if (IS_ROOT) mkdirSync('/run/sshd', { recursive: true, mode: 0o755 }); // the privilege separation dir sshd insists on as root
  const root = mkdtempSync(join(tmpdir(), 'tributary-sshd-'));
  const hostKey = join(root, 'host_key');
  const clientKey = join(root, 'client_key');
  const keygen = (file: string) => {
    rmSync(file, { force: true });
    rmSync(`${file}.pub`, { force: true });
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'tributary-test', '-f', file]);
  };
  keygen(hostKey);
  keygen(clientKey);
  writeFileSync(join(root, 'authorized_keys'), readFileSync(`${clientKey}.pub`));
  const port = await freePort();
  const config = join(root, 'sshd_config');
  writeFileSync(config, sshdConfig(root, port, hostKey));

  let child: ChildProcess | null = null;
  let output = '';
  const users: { name: string; dir: string }[] = [];
  const launch = async () => {
    const started = spawn(SSHD, ['-D', '-e', '-f', config], { stdio: ['ignore', 'pipe', 'pipe'] });
    started.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    started.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child = started;
    await waitForPort(port, started, () => output);
  };
  const halt = async () => {
    const running = child;
    child = null;
    if (!running || running.exitCode !== null || running.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => running.once('exit', () => resolve()));
    running.kill('SIGTERM');
    await exited;
  };

  const server: SshServer = {
    host: '127.0.0.1',
    port,
    username: userInfo().username,
    privateKey: readFileSync(clientKey, 'utf8'),
    hostKeyFingerprint: fingerprintOf(hostKey),
    newDir: () => mkdtempSync(join(root, 'files-')),
    async restart(options = {}) {
      await halt();
      if (options.newHostKey) {
        keygen(hostKey);
        server.hostKeyFingerprint = fingerprintOf(hostKey);
      }
      await launch();
    },
    createPasswordUser() {
      if (!IS_ROOT) throw new Error('only root can create a system user for the password test');
      const username = `tribsftp_${randomBytes(4).toString('hex')}`;
      const password = randomBytes(12).toString('base64url');
      const dir = mkdtempSync(join(tmpdir(), 'tributary-sftp-user-'));
      execFileSync('useradd', ['-M', '-d', dir, '-s', '/bin/false', username]);
      users.push({ name: username, dir });
      execFileSync('chpasswd', { input: `${username}:${password}\n` });
      const uid = Number(execFileSync('id', ['-u', username]).toString().trim());
      const gid = Number(execFileSync('id', ['-g', username]).toString().trim());
      chownSync(dir, uid, gid);
      chmodSync(dir, 0o755);
      return { username, password, dir };
    },
    output: () => output,
    async stop() {
      await halt();
      for (const user of users.splice(0)) {
        try {
          execFileSync('userdel', [user.name], { stdio: 'ignore' });
        } catch {
          // already gone: nothing to clean up
        }
        rmSync(user.dir, { recursive: true, force: true });
      }
      rmSync(root, { recursive: true, force: true });
    },
  };
  await launch();
  return server;
}

/** Runs sshd in the foreground on its own files only; no PAM so it works without root. */
function sshdConfig(root: string, port: number, hostKey: string): string {
  const lines = [
    `Port ${port}`,
    'ListenAddress 127.0.0.1',
    `HostKey ${hostKey}`,
    `PidFile ${join(root, 'sshd.pid')}`,
    `AuthorizedKeysFile ${join(root, 'authorized_keys')}`,
    'PasswordAuthentication yes',
    'PubkeyAuthentication yes',
    'KbdInteractiveAuthentication no',
    'StrictModes no',
    'UsePAM no',
    'UseDNS no',
    'PrintMotd no',
    'PermitRootLogin yes',
    'MaxStartups 100',
    'Subsystem sftp internal-sftp',
  ];
  // OpenSSH 9.8+ penalises sources after failed logins, which would lock the tests out of 127.0.0.1.
  if (sshdVersion() >= 908) lines.push('PerSourcePenalties no');
  return `${lines.join('\n')}\n`;
}

function sshdVersion(): number {
  const banner = spawnOutput(SSHD, ['-V']);
  const match = /OpenSSH_(\d+)\.(\d+)/.exec(banner);
  return match ? Number(match[1]) * 100 + Number(match[2]) : 0; // 9.8 → 908
}

function spawnOutput(command: string, args: string[]): string {
  try {
    return execFileSync(command, args, { stdio: ['ignore', 'pipe', 'pipe'] }).toString();
  } catch (error) {
    const failed = error as { stdout?: Buffer; stderr?: Buffer };
    return `${failed.stdout?.toString() ?? ''}${failed.stderr?.toString() ?? ''}`; // `sshd -V` exits non-zero
  }
}

/** "SHA256:…" as `ssh-keygen -lf` prints it. */
function fingerprintOf(keyFile: string): string {
  const line = execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', `${keyFile}.pub`]).toString();
  const match = /SHA256:[A-Za-z0-9+/]+/.exec(line);
  if (!match) throw new Error(`unexpected ssh-keygen output: ${line}`);
  return match[0];
}

/** A TCP port nobody listens on right now (asked from the OS, then released). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** Resolves once the port accepts TCP connections; rejects with sshd's output if it exits first. */
async function waitForPort(port: number, child: ChildProcess, output: () => string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`sshd exited (${child.exitCode ?? child.signalCode}):\n${output()}`);
    if (await accepts(port)) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  child.kill('SIGTERM');
  throw new Error(`sshd did not listen on 127.0.0.1:${port} within ${timeoutMs} ms:\n${output()}`);
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
