import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { waitForGraph } from '../helpers/browser.js';
import type { TestServer } from '../helpers/server.js';
import { facet, runEvent } from '../openlineage/fixtures.js';
import { demoInBrowser } from './demo-browser.js';

interface DrawnGraph {
  nodes: { id: string; type: string; classes: string[]; name: string; color: string }[];
  edges: { source: string; target: string; kind: string }[];
  renders: number;
}

let t: TestServer;
const browser = demoInBrowser({ ready: (server) => void (t = server) });

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
  });
});