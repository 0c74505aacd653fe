import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { waitForGraph } from '../helpers/browser.js';
import type { TestServer } from '../helpers/server.js';
import { facet, runEvent } from '../openlineage/fixtures.js';
import { demoInBrowser } from './demo-browser.js';

interface DrawnGraph {
  nodes: { id: string; type: string; classes: string[]; name: string; color: string }[];
  edges: { source: string; target: string; kind: string; classes: string[]; lineStyle?: string; opacity?: number }[];
  renders: number;
}

let t: TestServer;
// A declaration unused in the last observed run is drawn stale here (30 runs by default).
const browser = demoInBrowser({ env: { LINEAGE_STALE_AFTER_RUNS: '1' }, ready: (server) => void (t = server) });

/** A date as a datetime-local input takes it (this machine's and the browser's local time). */
const localInput = (date: Date) => {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`;
};

const AIRFLOW = 'https://github.com/apache/airflow/tree/providers-openlineage/2.3.0/providers/openlineage';

describe('External jobs and datasets in the web UI', () => {
  it('draws what OpenLineage events reported in its own colours, with the producer, and opens their pages', async () => {
    const event = runEvent({
      producer: AIRFLOW,
      job: { namespace: 'airflow', name: 'warehouse.export_orders' },
      inputs: [{ namespace: 'postgres://shop:5432', name: 'shop.public.orders', facets: { schema: facet({ fields: [{ name: 'id', type: 'integer' }] }) } }],
      outputs: [{ namespace: 's3://lake', name: 'orders_export' }],
    });
    const res = await fetch(`${t.url}/api/v1/lineage`, { method: 'POST', headers: { ...t.auth, 'content-type': 'application/json' }, body: JSON.stringify(event) });
    expect(res.status).toBe(201);

    const page = await browser.open('/?select=%2Borders_export');
    const graph = await waitForGraph<DrawnGraph>(page, 0);
    const job = graph.nodes.find((n) => n.name === 'warehouse.export_orders');
    const dataset = graph.nodes.find((n) => n.name === 'orders_export');
    expect(job).toMatchObject({ type: 'EXTERNAL_JOB', color: 'rgb(15,118,110)' });
    expect(job!.classes).toEqual(expect.arrayContaining(['external-job', 'scheduled', 'last-success']));
    expect(dataset).toMatchObject({ type: 'EXTERNAL_DATASOURCE', color: 'rgb(20,184,166)' });
    await expect.poll(() => page.getByTestId('legend').innerText()).toContain('External job (OpenLineage)');

    await page.getByTestId('search').fill('warehouse.export_orders');
    await page.getByTestId('search').press('Enter');
    await expect.poll(() => page.getByTestId('node-producer').innerText()).toContain('airflow');
    expect(await page.getByTestId('node-details').locator('[data-testid="edit-node"]').count()).toBe(0);
    await page.getByTestId('open-automation').click();
    await page.getByTestId('definition-external').waitFor();
    expect(await page.getByTestId('definition-external').innerText()).toContain('warehouse.export_orders');
    expect(await page.getByTestId('run-now').count()).toBe(0);
    await expect.poll(() => page.getByTestId('automation-page').innerText()).toContain('EXTERNAL');

    await page.getByRole('link', { name: 'shop.public.orders' }).click();
    await page.getByTestId('external-data').waitFor();
    expect(await page.getByTestId('ol-dataset').innerText()).toContain('postgres://shop:5432');
    expect(await page.getByTestId('columns').innerText()).toContain('id (integer)');
  });

  it('makes a token that only sends OpenLineage events, from the tokens page', async () => {
    const page = await browser.open('/tokens');
    await page.getByTestId('new-token-name').fill('airflow lineage');
    await page.getByTestId('new-token-lineage').check();
    expect(await page.getByTestId('new-token-role').isDisabled()).toBe(true);
    await page.getByTestId('new-token-submit').click();
    const token = await page.getByTestId('created-token-value').innerText();
    await expect.poll(() => page.getByTestId('token-row').filter({ hasText: 'airflow lineage' }).innerText()).toContain('OpenLineage events only');
    const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    const sent = await fetch(`${t.url}/api/v1/lineage`, { method: 'POST', headers, body: JSON.stringify(runEvent({ job: { namespace: 'airflow', name: 'from.the.tokens.page' } })) });
    expect(sent.status).toBe(201);
    const other = await fetch(`${t.url}/graphql`, { method: 'POST', headers, body: JSON.stringify({ query: '{ datasources(first: 1) { totalCount } }' }) });
    expect(other.status).toBe(403);
  });

  it('says on an automation page where declared and observed lineage differ', async () => {
    const job = { namespace: 'airflow', name: 'e2e.drifting' };
    const send = (eventTime: string, inputs: string[]) =>
      fetch(`${t.url}/api/v1/lineage`, { method: 'POST', headers: { ...t.auth, 'content-type': 'application/json' }, body: JSON.stringify(runEvent({ eventTime, job, run: { runId: randomUUID() }, inputs: inputs.map((name) => ({ namespace: 's3://e2e', name })), outputs: [] })) });
    expect((await send('2026-11-01T00:00:00.000Z', ['e2e_old', 'e2e_kept'])).status).toBe(201);
    expect((await send('2026-11-02T00:00:00.000Z', ['e2e_kept'])).status).toBe(201);
    const id = (await t.ok(`{ automation(name: "e2e.drifting") { id } }`)).automation.id;
    const page = await browser.open(`/automations/${id}`);
    await page.getByTestId('drift').waitFor();
    expect(await page.getByTestId('drift-item').allInnerTexts()).toEqual([expect.stringContaining('read "e2e_old" in 1 run')]);

    // The graph draws what only the earlier run read as a dashed edge, apart from the declared one
    // (observed-only edges join the nodes a filter keeps; they do not widen a +selection).
    const dataflow = await browser.open(`/?scheduledOnly=false&select=${encodeURIComponent('+"e2e.drifting" e2e_old')}`);
    const graph = await waitForGraph<DrawnGraph>(dataflow, 0);
    const name = new Map(graph.nodes.map((n) => [n.id, n.name]));
    const edgeFrom = (source: string) => graph.edges.find((e) => name.get(e.source) === source && name.get(e.target) === 'e2e.drifting');
    expect(edgeFrom('e2e_old')).toMatchObject({ kind: 'INPUT', classes: ['input', 'observed'], lineStyle: 'dashed' });
    expect(edgeFrom('e2e_kept')).toEqual({ source: expect.any(String), target: id, kind: 'INPUT', classes: ['input'] });
    await expect.poll(() => dataflow.getByTestId('legend').innerText()).toContain('Observed in runs, undeclared');
  });

  it('fades a declaration runs no longer use, and shows the graph as of a date picked on the Dataflow page', async () => {
    const { writeFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    writeFileSync(join(t.filesDir, 'as_of.csv'), 'id\n1\n');
    const file = async (name: string) => (await t.ok(`mutation($input: CreateDatasourceInput!) { createDatasource(input: $input) { id } }`, { input: { name, kind: 'FILE', path: join(t.filesDir, 'as_of.csv') } })).createDatasource.id as string;
    const used = await file('e2e_used');
    const unused = await file('e2e_unused');
    const out = (await t.ok(`mutation { createDatasource(input: { name: "e2e_stale_out", kind: STORAGE }) { id } }`)).createDatasource.id as string;
    const script = (
      await t.ok(`mutation($input: CreateScriptInput!) { createScript(input: $input) { id } }`, {
        input: { name: 'e2e_stale_script', language: 'JAVASCRIPT', inputIds: [used, unused], outputIds: [out], code: `for await (const r of tributary.read('e2e_used')) await tributary.write('e2e_stale_out', r);` },
      })
    ).createScript.id as string;
    const { finished, runNow } = await import('../scheduler/helpers.js');
    expect((await finished(t, (await runNow(t, script)).id)).status).toBe('SUCCESS');
    await new Promise((resolve) => setTimeout(resolve, 1_200));
    const then = new Date();
    await new Promise((resolve) => setTimeout(resolve, 1_200));
    await t.ok(`mutation($id: ID!) { updateScript(id: $id, input: { name: "e2e_stale_script_renamed" }) { id } }`, { id: script });

    const page = await browser.open(`/?scheduledOnly=false&leadingTo=${out}`);
    let graph = await waitForGraph<DrawnGraph>(page, 0);
    const scriptName = () => graph.nodes.find((n) => n.id === script)?.name;
    expect(scriptName()).toBe('e2e_stale_script_renamed');
    const from = (source: string) => graph.edges.find((e) => e.source === source && e.target === script);
    expect(from(unused)).toMatchObject({ classes: ['input', 'stale'], opacity: 0.3 });
    expect(from(used)).toEqual({ source: used, target: script, kind: 'INPUT', classes: ['input'] });

    // As of a time before the rename: the name of then, said above the graph, kept in the URL.
    await page.getByTestId('as-of').fill(localInput(then));
    graph = await waitForGraph<DrawnGraph>(page, graph.renders);
    expect(scriptName()).toBe('e2e_stale_script');
    expect(await page.getByTestId('as-of-note').innerText()).toContain('Showing the graph as it was on');
    expect(new URL(page.url()).searchParams.get('asOf')).toMatch(/^\d{4}-\d\d-\d\dT/);
    await page.reload();
    graph = await waitForGraph<DrawnGraph>(page, 0);
    expect(scriptName()).toBe('e2e_stale_script');

    await page.getByTestId('as-of-now').click();
    graph = await waitForGraph<DrawnGraph>(page, graph.renders);
    expect(scriptName()).toBe('e2e_stale_script_renamed');
    expect(await page.getByTestId('as-of-note').count()).toBe(0);
  });
});