/**
 * Export and import in Chromium (issue #16): an editor exports a flow from its page, imports the
 * ZIP back with RENAME on the Import page (a dry run first), and the Dataflow graph then draws the
 * original and the renamed copy side by side.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Role } from '../../core/enums.js';
import { waitForGraph } from '../helpers/browser.js';
import { browserSuite } from '../helpers/e2e.js';
import { factories } from '../factories/index.js';

const suite = browserSuite();

describe('export and import in the browser', () => {
  it('exports a flow, imports it with rename, and shows both in the graph', { timeout: 60_000 }, async () => {
    const t = suite.t;
    writeFileSync(join(t.filesDir, 'leads.csv'), 'id,score\n1,5\n');
    const f = factories(t);
    const input = await f.file({ path: 'leads.csv', columns: [{ name: 'id', type: 'INTEGER' }, { name: 'score', type: 'INTEGER' }] });
    const output = await f.storage();
    const etl = await f.etl(input, output, { schedule: { cron: '0 5 * * *' } });

    const page = await suite.signedIn(await t.addUser(Role.EDITOR), { acceptDownloads: true });
    await page.goto(`${t.url}/automations/${etl.id}`);
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export').click()]);
    const zip = join(mkdtempSync(join(tmpdir(), 'tributary-e2e-')), 'flow.zip');
    await download.saveAs(zip);

    await page.getByTestId('nav-import').click();
    await page.getByTestId('import-file').setInputFiles(zip);
    await page.getByTestId('conflict-RENAME').check();
    await page.getByTestId('import-submit').click(); // a dry run first (the default)
    await expect.poll(() => page.getByTestId('import-summary').textContent()).toContain('Dry run');
    expect(await page.getByTestId('import-row').count()).toBe(3);
    expect((await t.ok(`{ automations(first: 1) { totalCount } }`)).automations.totalCount).toBe(1);

    await page.getByTestId('import-dry-run').uncheck();
    await page.getByTestId('import-submit').click();
    await expect.poll(() => page.getByTestId('import-summary').textContent()).toContain('Imported');
    await expect.poll(async () => page.locator('[data-testid="import-row"][data-outcome="RENAMED"]').count()).toBe(3);
    await expect.poll(() => page.getByTestId('import-report').textContent()).toContain(`${etl.name} (2)`);

    await page.goto(`${t.url}/`);
    const graph = await waitForGraph(page);
    const names = graph.nodes.map((n) => n.name);
    expect(names).toEqual(expect.arrayContaining([etl.name, `${etl.name} (2)`, input.name, `${input.name} (2)`, output.name, `${output.name} (2)`]));
    const copy = graph.nodes.find((n) => n.name === `${etl.name} (2)`)!;
    expect(graph.edges).toContainEqual(expect.objectContaining({ source: graph.nodes.find((n) => n.name === `${input.name} (2)`)!.id, target: copy.id, kind: 'INPUT' }));
  });
});
