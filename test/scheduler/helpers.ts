import { serverWithFactories, type Factories } from '../factories/index.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

export const RUN_FIELDS = `id status trigger error rowsRead rowsWritten coalesced queuedAt startedAt finishedAt log parentRun { id } automation { id name }`;

export interface RunShape {
  id: string;
  status: string;
  trigger: string;
  error: string | null;
  rowsRead: number | null;
  rowsWritten: number | null;
  coalesced: number;
  queuedAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  log: string[];
  parentRun: { id: string } | null;
  automation: { id: string; name: string };
  steps?: RunShape[];
}

import { eventually } from '../helpers/eventually.js';

export { eventually };

export async function runById(t: TestServer, id: string): Promise<RunShape> {
  return (await t.ok(`query($id: ID!) { run(id: $id) { ${RUN_FIELDS} steps { ${RUN_FIELDS} } } }`, { id })).run;
}

/** Waits until a run has finished (SUCCESS, FAILED or CANCELLED) and returns it. */
export function finished(t: TestServer, id: string, timeoutMs = 20_000): Promise<RunShape> {
  return eventually(() => runById(t, id), (r) => ['SUCCESS', 'FAILED', 'CANCELLED'].includes(r.status), timeoutMs);
}

export async function runNow(t: TestServer, id: string): Promise<RunShape> {
  return (await t.ok(`mutation($id: ID!) { runAutomation(id: $id) { ${RUN_FIELDS} } }`, { id })).runAutomation;
}

export async function runsOf(t: TestServer, id: string): Promise<RunShape[]> {
  return (await t.ok(`query($id: ID!) { automation(id: $id) { runs(first: 200) { nodes { ${RUN_FIELDS} } } } }`, { id })).automation.runs.nodes;
}

export async function setState(t: TestServer, id: string, verb: 'pause' | 'stop' | 'start'): Promise<string> {
  const field = `${verb}Automation`;
  return (await t.ok(`mutation($id: ID!) { ${field}(id: $id) { state } }`, { id }))[field].state;
}

/** A JavaScript script writing `rows` rows to `output`, sleeping `ms` first. */
export function sleepyScript(outputName: string, ms: number, rows = 3): string {
  return `await new Promise((r) => setTimeout(r, ${ms}));\nfor (let i = 0; i < ${rows}; i++) await tributary.write(${JSON.stringify(outputName)}, { i });\nconsole.log('wrote ${rows}');`;
}

/**
 * A server polling its job store every 200 ms (schedules of a second or two stay on time). With
 * JOB_STORE_URL=postgres://… in the environment the suites run against PostgreSQL's job store.
 */
export function schedulerServer(): Promise<TestServer> {
  return startTestServer(schedulerEnv());
}

/** The same server with its factories, for suites that create their own objects. */
export function schedulerWithFactories(): Promise<{ t: TestServer; f: Factories }> {
  return serverWithFactories(schedulerEnv());
}

function schedulerEnv(): Record<string, string> {
  const store = process.env.JOB_STORE_URL;
  return { SCHEDULER_POLL_MS: '200', ...(store ? { JOB_STORE_URL: store } : {}) };
}
