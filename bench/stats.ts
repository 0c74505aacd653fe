/** Small helpers shared by the benchmarks: timing, percentiles and result files. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const RESULTS_DIR = join(dirname(fileURLToPath(import.meta.url)), 'results');

export interface Summary {
  runs: number;
  p50Ms: number;
  p95Ms: number;
  minMs: number;
  maxMs: number;
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index]!;
}

const round = (ms: number): number => Math.round(ms * 1000) / 1000;

export function summarize(samples: number[]): Summary {
  const sorted = [...samples].sort((a, b) => a - b);
  return {
    runs: sorted.length,
    p50Ms: round(percentile(sorted, 50)),
    p95Ms: round(percentile(sorted, 95)),
    minMs: round(sorted[0] ?? Number.NaN),
    maxMs: round(sorted[sorted.length - 1] ?? Number.NaN),
  };
}

/** Runs `work` `warmup` times unmeasured, then `runs` times, and returns the timings. */
export async function measure(runs: number, work: (i: number) => Promise<unknown>, warmup = Math.min(10, runs)): Promise<Summary> {
  for (let i = 0; i < warmup; i++) await work(i);
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    await work(i);
    samples.push(performance.now() - start);
  }
  return summarize(samples);
}

/** Writes `bench/results/<name>.json` with the machine it ran on, and returns the path. */
export function writeResult(name: string, result: Record<string, unknown>): string {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const file = join(RESULTS_DIR, `${name}.json`);
  const body = { benchmark: name, at: new Date().toISOString(), node: process.version, ...result };
  writeFileSync(file, JSON.stringify(body, null, 2) + '\n');
  return file;
}

/** Milliseconds to a tenth. */
export const roundTenth = (ms: number) => Math.round(ms * 10) / 10;

/** Latencies of requests under load, and how many failed. */
export interface Latencies {
  samples: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Samples that failed (not 200, GraphQL errors, or no answer within the timeout). */
  failures: number;
}

export function latencies(samples: number[], failures: number): Latencies {
  const sorted = [...samples].sort((a, b) => a - b);
  return { samples: sorted.length, p50Ms: roundTenth(percentile(sorted, 50)), p99Ms: roundTenth(percentile(sorted, 99)), maxMs: roundTenth(sorted.at(-1) ?? Number.NaN), failures };
}
