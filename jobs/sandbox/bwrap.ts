import { spawn } from 'node:child_process';
import { accessSync, constants, existsSync, lstatSync, readlinkSync } from 'node:fs';

/**
 * The OS sandbox user scripts run in: bubblewrap (`bwrap`, Debian package `bubblewrap`).
 *
 * - an unprivileged user: bwrap itself is started as uid/gid 65534 ("nobody") when the server
 *   runs as root, so the script's processes are nobody on the host too (RLIMIT_NPROC is
 *   enforced, root's files are not writable); otherwise as the server's own user. Inside, the
 *   script is uid/gid 65534 with no capabilities and cannot create further user namespaces;
 * - its own user, PID, IPC, UTS, mount, network and cgroup namespaces: no network at all (only a
 *   loopback of its own), no view of the server's processes;
 * - a read-only view of /usr (and the /bin, /lib… links into it), the interpreter, /proc of its
 *   own PID namespace and a minimal /dev; the bootstrap and the code are copied in from pipes,
 *   so nothing of the host's file system (DATA_DIR, /root, /tmp, the code's checkout) is there;
 * - one private writable directory: a tmpfs of bounded size, gone with the sandbox;
 * - limits set with prlimit inside the sandbox's user namespace (so they bound this sandbox, not
 *   every nobody process of the host): memory, processes and threads, open files, CPU time,
 *   file size, no core dumps;
 * - `--die-with-parent` and `--new-session`: the sandbox dies with the server, even on SIGKILL,
 *   and cannot reach the server's terminal. Killing the outer bwrap (or the sandbox's PID 1)
 *   ends every process in it, including ones started with setsid.
 */

export const DEFAULT_BWRAP = '/usr/bin/bwrap';
/** util-linux's prlimit: sets the limits inside the sandbox, then runs the interpreter. */
export const PRLIMIT = '/usr/bin/prlimit';
/** The uid and gid scripts run as (inside the sandbox, and on the host when the server is root). */
export const SANDBOX_ID = 65534;

export interface SandboxLimits {
  /** RLIMIT_AS in bytes; null: unlimited (V8 reserves far more address space than it uses). */
  addressSpace: number | null;
  /** RLIMIT_DATA in bytes: every private writable mapping (heap, mmap'ed buffers, thread stacks). */
  data: number;
  /** RLIMIT_NPROC: processes and threads of this sandbox. */
  processes: number;
  openFiles: number;
  cpuSeconds: number;
  /** RLIMIT_FSIZE in bytes: the largest file the script may write. */
  fileSize: number;
}

export interface SandboxSpec {
  /** The private writable directory (a tmpfs of `workBytes`), the script's cwd, HOME and TMPDIR. */
  workDir: string;
  workBytes: number;
  /** Read-only files copied in from these fds of the bwrap process before the script starts. */
  files: { fd: number; path: string }[];
  /** Host paths bound read-only at the same place (an interpreter that does not live under /usr). */
  binds: string[];
  env: Record<string, string>;
  /** The interpreter and its arguments, as seen inside. */
  command: string[];
  limits: SandboxLimits;
  /** bwrap writes `{"child-pid": …, "pid-namespace": …}` here once the sandbox runs. */
  infoFd?: number;
  /** bwrap loads the seccomp filter (jobs/sandbox/seccomp.ts) from this fd. */
  seccompFd?: number;
}

/** The uid/gid to start bwrap as: nobody when the server is root (never run a script as root). */
export function sandboxCredentials(): { uid?: number; gid?: number } {
  return process.getuid?.() === 0 ? { uid: SANDBOX_ID, gid: SANDBOX_ID } : {};
}

/** The /bin, /lib… entries of the root: symlinks into /usr recreated, real directories bound read-only. */
function rootLinks(): string[] {
  const args: string[] = [];
  for (const entry of ['/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32']) {
    try {
      const stat = lstatSync(entry);
      if (stat.isSymbolicLink()) args.push('--symlink', readlinkSync(entry), entry);
      else if (stat.isDirectory()) args.push('--ro-bind', entry, entry);
    } catch {
      // Not on this system.
    }
  }
  try {
    // The local time zone: a link into /usr/share/zoneinfo on Debian.
    if (lstatSync('/etc/localtime').isSymbolicLink()) args.push('--symlink', readlinkSync('/etc/localtime'), '/etc/localtime');
  } catch {
    // UTC.
  }
  return args;
}

let links: string[] | undefined;

/** bwrap's argument list for one script. */
export function bwrapArgs(spec: SandboxSpec): string[] {
  links ??= rootLinks();
  const { limits } = spec;
  const args = [
    '--unshare-all',
    '--unshare-user', // required, not just tried: the script must never hold the server's uid or capabilities
    '--disable-userns',
    '--die-with-parent',
    '--new-session',
    '--uid', String(SANDBOX_ID),
    '--gid', String(SANDBOX_ID),
    '--hostname', 'tributary-script',
    '--ro-bind', '/usr', '/usr',
    ...links,
    ...spec.binds.flatMap((path) => ['--ro-bind', path, path]),
    '--proc', '/proc',
    '--dev', '/dev',
    '--size', String(spec.workBytes), '--tmpfs', spec.workDir,
    ...spec.files.flatMap(({ fd, path }) => ['--perms', '0444', '--ro-bind-data', String(fd), path]),
    // Nothing else is writable: a tmpfs root or /dev/shm would be memory outside every limit.
    '--remount-ro', '/dev',
    '--remount-ro', '/',
    '--chdir', spec.workDir,
    '--clearenv',
    ...Object.entries(spec.env).flatMap(([name, value]) => ['--setenv', name, value]),
    ...(spec.infoFd !== undefined ? ['--info-fd', String(spec.infoFd)] : []),
    ...(spec.seccompFd !== undefined ? ['--seccomp', String(spec.seccompFd)] : []),
    '--',
    PRLIMIT,
    ...(limits.addressSpace !== null ? [`--as=${limits.addressSpace}`] : []),
    `--data=${limits.data}`,
    `--nproc=${limits.processes}`,
    `--nofile=${limits.openFiles}`,
    // Soft then hard: SIGXCPU, then SIGKILL a few seconds later.
    `--cpu=${limits.cpuSeconds}:${limits.cpuSeconds + 5}`,
    `--fsize=${limits.fileSize}`,
    '--core=0',
    '--',
    ...spec.command,
  ];
  return args;
}

/** A sandbox with every option a script gets but nothing in it: for probing and measuring bwrap itself. */
export function bareSpec(command: string[], workDir: string): SandboxSpec {
  return {
    workDir,
    workBytes: 1 << 20,
    files: [],
    binds: [],
    env: { PATH: '/usr/bin:/bin' },
    command,
    limits: { addressSpace: null, data: 256 << 20, processes: 16, openFiles: 64, cpuSeconds: 10, fileSize: 1 << 20 },
  };
}

/** Why the sandbox cannot start, or null when it can. */
export type SandboxProblem = string | null;

const probes = new Map<string, Promise<SandboxProblem>>();

/**
 * Starts one sandbox with the options every script gets and reports what went wrong, in words an
 * administrator can act on. Cached per bwrap binary (the answer does not change while we run).
 */
export function probeSandbox(bwrap = DEFAULT_BWRAP): Promise<SandboxProblem> {
  let probe = probes.get(bwrap);
  if (!probe) {
    probe = runProbe(bwrap);
    probes.set(bwrap, probe);
  }
  return probe;
}

async function runProbe(bwrap: string): Promise<SandboxProblem> {
  try {
    accessSync(bwrap, constants.X_OK);
  } catch {
    return `bubblewrap is not installed (${bwrap} was not found): install it (Debian/Ubuntu: apt-get install bubblewrap)`;
  }
  if (!existsSync(PRLIMIT)) return `${PRLIMIT} was not found: install util-linux`;
  const args = bwrapArgs(bareSpec([PRLIMIT, '--version'], '/tmp/probe'));
  const result = await new Promise<{ code: number | null; stderr: string; error?: Error }>((resolve) => {
    const child = spawn(bwrap, args, { ...sandboxCredentials(), env: {}, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.once('error', (error) => resolve({ code: null, stderr, error }));
    child.once('close', (code) => resolve({ code, stderr }));
  });
  if (result.error) return `${bwrap} cannot be started: ${result.error.message}`;
  if (result.code === 0) return null;
  return explainBwrapFailure(result.stderr, bwrap);
}

/** bwrap's own error (its stderr lines start with "bwrap:") with what to do about it. */
export function explainBwrapFailure(stderr: string, bwrap = DEFAULT_BWRAP): string {
  const message = stderr.split('\n').find((line) => line.startsWith('bwrap:'))?.replace(/^bwrap:\s*/, '') ?? stderr.trim().split('\n')[0] ?? 'no error message';
  const hint = /namespace|uid map|setting up|Operation not permitted|Permission denied|clone/i.test(message)
    ? ': unprivileged user namespaces must be allowed (Debian: sysctl kernel.unprivileged_userns_clone=1; everywhere: user.max_user_namespaces > 0; Ubuntu 24.04+: kernel.apparmor_restrict_unprivileged_userns=0 or an AppArmor profile for bwrap; in a container: a seccomp profile that allows user namespaces)'
    : /Unknown option|Unknown action/i.test(message)
      ? ': this bubblewrap is too old; version 0.8.0 or later is needed (Debian 12, Ubuntu 24.04)'
      : '';
  return `bubblewrap (${bwrap}) cannot create the sandbox: ${message}${hint}`;
}
