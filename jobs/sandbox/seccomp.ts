/**
 * A seccomp filter for the script sandbox (classic BPF, as bwrap's `--seccomp FD` loads it).
 *
 * The rlimits bound what a process maps, but not memory that lives in a file of its own: an
 * in-memory file (memfd_create) or a System V shared memory segment is counted by neither the
 * address-space nor the data limit, so one script could hold hundreds of times its memory limit.
 * Those calls, and kernel interfaces a script never needs but an exploit would (io_uring, bpf,
 * userfaultfd, perf events, keyrings, ptrace), answer EPERM. Written for x86_64, where the
 * filter also refuses the x32 ABI (syscall numbers with bit 30 set); elsewhere there is none.
 */

/** x86_64 system call numbers refused in the sandbox. */
const DENIED_X86_64: Record<string, number> = {
  ptrace: 101,
  shmget: 29,
  shmat: 30,
  shmctl: 31,
  add_key: 248,
  request_key: 249,
  keyctl: 250,
  perf_event_open: 298,
  memfd_create: 319,
  bpf: 321,
  userfaultfd: 323,
  io_uring_setup: 425,
  io_uring_enter: 426,
  io_uring_register: 427,
  memfd_secret: 447,
};

const AUDIT_ARCH_X86_64 = 0xc000003e;
const X32_SYSCALL_BIT = 0x40000000;
const EPERM = 1;
// BPF opcodes (linux/bpf_common.h) and seccomp return values (linux/seccomp.h).
const LD_W_ABS = 0x20;
const JEQ_K = 0x15;
const JGE_K = 0x35;
const RET_K = 0x06;
const RET_ALLOW = 0x7fff0000;
const RET_ERRNO = 0x00050000;
// Offsets in struct seccomp_data.
const NR = 0;
const ARCH = 4;

/** The names of the refused calls, for documentation and tests. */
export const DENIED_SYSCALLS = Object.keys(DENIED_X86_64);

/** The compiled filter for this machine, or null where none is written (not x86_64). */
export function seccompFilter(arch: string = process.arch): Buffer | null {
  if (arch !== 'x64') return null;
  const numbers = Object.values(DENIED_X86_64);
  const allow = 4 + numbers.length; // index of RET ALLOW
  const deny = allow + 1; // index of RET ERRNO
  const program: [code: number, jt: number, jf: number, k: number][] = [
    [LD_W_ABS, 0, 0, ARCH],
    [JEQ_K, 0, allow - 2, AUDIT_ARCH_X86_64], // another architecture's calls: not ours to judge (bwrap sets no_new_privs anyway)
    [LD_W_ABS, 0, 0, NR],
    [JGE_K, deny - 4, 0, X32_SYSCALL_BIT],
    ...numbers.map((nr, i): [number, number, number, number] => [JEQ_K, deny - (4 + i + 1), 0, nr]),
    [RET_K, 0, 0, RET_ALLOW],
    [RET_K, 0, 0, RET_ERRNO | EPERM],
  ];
  const buffer = Buffer.alloc(program.length * 8);
  program.forEach(([code, jt, jf, k], i) => {
    buffer.writeUInt16LE(code, i * 8);
    buffer.writeUInt8(jt, i * 8 + 2);
    buffer.writeUInt8(jf, i * 8 + 3);
    buffer.writeUInt32LE(k >>> 0, i * 8 + 4);
  });
  return buffer;
}
