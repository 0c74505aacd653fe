/**
 * `npm run bench -- sandbox`: what the bubblewrap sandbox costs a script run. A trivial script
 * (one printed line, no inputs or outputs) runs through the ScriptRunner with the sandbox
 * (SCRIPT_SANDBOX=on) and without it (off), alternately in the same process, for Python and
 * JavaScript; the figure is the start cost per run: the sandbox's extra milliseconds and the
 * ratio of the medians. Target: the sandbox adds under 100 ms per run.
 */
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AutomationKind, ScriptLanguage, WriteMode } from '../core/db/entities/index.js';
import type { RunContext } from '../jobs/runners/runner.js';
import { ScriptRunner, type ScriptPlan } from '../jobs/runners/script.runner.js';
import { bareSpec, bwrapArgs, DEFAULT_BWRAP, probeSandbox, sandboxCredentials } from '../jobs/sandbox/bwrap.js';
import { SqliteWarehouse } from '../jobs/warehouse/sqlite-warehouse.js';
import { summarize, writeResult, type Summary } from './stats.js';

const RUNS = Number(process.env.BENCH_SANDBOX_RUNS ?? 40);
const WARMUP = 5;
const quiet: RunContext = { signal: new AbortController().signal, log: () => undefined, progress: () => undefined };

function trivial(language: ScriptLanguage): ScriptPlan {
  const code = language === ScriptLanguage.PYTHON ? 'print("ok")' : 'console.log("ok")';
  return {
    id: randomUUID(),
    name: 'bench',
    kind: AutomationKind.SCRIPT,
    inputs: [],
    outputs: [],
    writeMode: WriteMode.REPLACE,
    writeKeys: [],
    script: { language, code, variables: null, timeoutSeconds: 60, memoryMb: 256 },
    datasourceNames: {},
  };
}

async function timed(work: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await work();
  return performance.now() - start;
}

/** Runs with and without the sandbox alternately, so both see the same machine load. */
async function compare(language: ScriptLanguage, on: ScriptRunner, off: ScriptRunner) {
  const plan = trivial(language);
  for (let i = 0; i < WARMUP; i++) {
    await on.run(plan, quiet);
    await off.run(plan, quiet);
  }
  const [withSandbox, without]: number[][] = [[], []];
  for (let i = 0; i < RUNS; i++) {
    withSandbox.push(await timed(() => on.run(plan, quiet)));
    without.push(await timed(() => off.run(plan, quiet)));
  }
  const [sandboxed, direct] = [summarize(withSandbox), summarize(without)];
  return {
    sandbox: sandboxed,
    noSandbox: direct,
    overheadMs: Math.round((sandboxed.p50Ms - direct.p50Ms) * 10) / 10,
    ratio: Math.round((sandboxed.p50Ms / direct.p50Ms) * 100) / 100,
  };
}

/** bwrap alone: the sandbox with /usr/bin/true in it, the floor of what a sandboxed start costs. */
function bareBwrap(): Summary {
  const args = bwrapArgs(bareSpec(['/usr/bin/true'], '/tmp/bench'));
  const samples: number[] = [];
  for (let i = 0; i < WARMUP + RUNS; i++) {
    const start = performance.now();
    const result = spawnSync(DEFAULT_BWRAP, args, { ...sandboxCredentials(), cwd: '/' });
    if (result.status !== 0) throw new Error(`bwrap failed: ${result.stderr}`);
    if (i >= WARMUP) samples.push(performance.now() - start);
  }
  return summarize(samples);
}

export async function run(): Promise<void> {
  const problem = await probeSandbox();
  if (problem) throw new Error(`the sandbox cannot run here: ${problem}`);
  const dir = mkdtempSync(join(tmpdir(), 'tributary-bench-sandbox-'));
  const warehouse = await SqliteWarehouse.open(dir);
  try {
    const on = new ScriptRunner(warehouse, { sandbox: 'on', dataDir: dir });
    const off = new ScriptRunner(warehouse, { sandbox: 'off', dataDir: dir });
    const python = await compare(ScriptLanguage.PYTHON, on, off);
    const javascript = await compare(ScriptLanguage.JAVASCRIPT, on, off);
    const bwrapTrue = bareBwrap();
    const result = {
      runs: RUNS,
      description: 'wall time of ScriptRunner.run for a trivial script, with the bubblewrap sandbox and without it (SCRIPT_SANDBOX=off), alternately',
      python,
      javascript,
      bwrapTrue,
      target: 'the sandbox adds under 100 ms per run (overheadMs < 100)',
      met: python.overheadMs < 100 && javascript.overheadMs < 100,
    };
    for (const [name, r] of [['Python', python], ['JavaScript', javascript]] as const) {
      console.log(`  ${name}: ${r.sandbox.p50Ms.toFixed(1)} ms with the sandbox, ${r.noSandbox.p50Ms.toFixed(1)} ms without (p50): +${r.overheadMs} ms, ${r.ratio}x`);
    }
    console.log(`  bwrap running /usr/bin/true: ${bwrapTrue.p50Ms.toFixed(1)} ms (p50)`);
    console.log(`wrote ${writeResult('sandbox', result)}`);
  } finally {
    await warehouse.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
