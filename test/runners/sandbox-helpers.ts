import { randomUUID } from 'node:crypto';
import { AutomationKind, DatasourceKind, ScriptLanguage, WriteMode } from '../../core/db/entities/index.js';
import type { RunContext } from '../../jobs/runners/runner.js';
import type { ScriptPlan } from '../../jobs/runners/script.runner.js';
import type { DatasourceSpec } from '../../jobs/warehouse/warehouse.js';

/**
 * Python that gets past the audit hook (the second layer) the way the reported attack did:
 * `_posixsubprocess.fork_exec` starts a process without raising any audit event. `shell(cmd)`
 * runs `/bin/sh -c cmd` and returns its output; `setsid=True` puts it in a session of its own.
 * What such a shell can do is what the OS sandbox allows.
 */
export const PY_ESCAPE = `
import _posixsubprocess, os
def shell(cmd, setsid=False):
    r, w = os.pipe()
    er, ew = os.pipe()
    pid = _posixsubprocess.fork_exec([b"/bin/sh", b"-c", cmd.encode()], [b"/bin/sh"], True, (ew,), None, None,
        -1, -1, -1, w, -1, w, er, ew, True, setsid, -1, None, None, None, -1, None, False)
    os.close(w); os.close(ew); os.close(er)
    out = b""
    while True:
        chunk = os.read(r, 65536)
        if not chunk:
            break
        out += chunk
    os.close(r)
    os.waitpid(pid, 0)
    return out.decode(errors="replace")
`;

/** A STORAGE datasource with a name the script can use. */
export function storage(name: string): DatasourceSpec & { name: string } {
  return { id: randomUUID(), kind: DatasourceKind.STORAGE, name };
}

export function plan(
  code: string,
  io: { inputs?: (DatasourceSpec & { name: string })[]; outputs?: (DatasourceSpec & { name: string })[] } = {},
  script: Partial<ScriptPlan['script'] & object> = {},
): ScriptPlan {
  const [inputs, outputs] = [io.inputs ?? [], io.outputs ?? []];
  return {
    id: randomUUID(),
    name: 'script',
    kind: AutomationKind.SCRIPT,
    inputs: inputs.map(({ id, kind }) => ({ id, kind })),
    outputs: outputs.map(({ id, kind }) => ({ id, kind })),
    writeMode: WriteMode.REPLACE,
    writeKeys: [],
    script: { language: ScriptLanguage.JAVASCRIPT, code, variables: null, timeoutSeconds: 20, memoryMb: 64, ...script },
    datasourceNames: Object.fromEntries([...inputs, ...outputs].map((ds) => [ds.id, ds.name])),
  };
}

export const python = (code: string, script: Partial<ScriptPlan['script'] & object> = {}, io = {}) => plan(code, io, { language: ScriptLanguage.PYTHON, ...script });

/** A run context that keeps the log lines and progress reports it gets. */
export function context(onLog?: (line: string) => void, signal = new AbortController().signal) {
  const log: string[] = [];
  const progress: number[] = [];
  const ctx: RunContext = {
    signal,
    log: (line) => {
      log.push(line);
      onLog?.(line);
    },
    progress: (n) => progress.push(n),
  };
  return { ctx, log, progress };
}

/** A number no other process has on its command line: `sleep <marker>` is a findable grandchild. */
export function sleepMarker(): string {
  return `${3000 + Math.floor(Math.random() * 1000)}.${String(Math.floor(Math.random() * 1e9)).padStart(9, '0')}`;
}
