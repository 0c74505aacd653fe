/**
 * Parameter sets in Chromium: an editor creates a set on the Parameters page, attaches it to an
 * ETL step in its form and uses `${set__param}` in the SQL; an unknown reference is refused at
 * the field; the automation page names the set, the set lists its user, and deleting it while
 * used is refused with a link to that user.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Role } from '../../core/enums.js';
import { replaceCode } from '../helpers/browser.js';
import { browserSuite } from '../helpers/e2e.js';
import { factories } from '../factories/index.js';

const suite = browserSuite();

describe('parameter sets in the browser', () => {
  it('creates a set, attaches it to an ETL step, refuses an unknown reference and a deletion while used', async () => {
    const t = suite.t;
    writeFileSync(join(t.filesDir, 'countries.csv'), 'country,amount\nNL,1\nDE,2\n');
    const f = factories(t);
    const input = await f.file({ path: 'countries.csv' });
    const etl = await f.etl(input, await f.storage());

    const page = await suite.signedIn(await t.addUser(Role.EDITOR));
    await page.goto(`${t.url}/`);
    await page.getByTestId('nav-parameter-sets').click();
    await page.getByTestId('new-parameter-set').click();
    await page.getByTestId('parameter-set-name').fill('region_eu');
    await page.getByTestId('parameter-name').fill('country');
    await page.getByTestId('parameter-value').fill('NL');
    await page.getByTestId('save-parameter-set').click();
    await expect.poll(() => page.getByTestId('parameter-set').first().textContent()).toContain('${region_eu__country}');

    // Attach it in the form and use it in the SQL.
    await page.goto(`${t.url}/automations/${etl.id}/edit`);
    await replaceCode(page, 'transform-editor', JSON.stringify({ sql: "select * from input where country = '${region_eu__nope}'" }));
    await page.getByTestId('parameter-set-option').and(page.locator('[value="region_eu"]')).check();
    await page.getByTestId('submit').click();
    await expect.poll(() => page.getByTestId('field-transform').textContent()).toContain('has no parameter "nope"');
    await replaceCode(page, 'transform-editor', JSON.stringify({ sql: "select * from input where country = '${region_eu__country}'" }));
    await page.getByTestId('submit').click();
    await page.waitForURL((url) => url.pathname === `/automations/${etl.id}`);
    await expect.poll(() => page.getByTestId('definition-parameter-sets').textContent()).toContain('region_eu');

    // The set names its user, and cannot be deleted while used.
    await page.goto(`${t.url}/parameter-sets`);
    await expect.poll(() => page.getByTestId('parameter-set-users').first().textContent()).toContain(etl.name);
    page.once('dialog', (dialog) => void dialog.accept());
    await page.getByTestId('delete-parameter-set').first().click();
    await expect.poll(() => page.getByTestId('delete-refused').textContent()).toContain(etl.name);
    expect((await t.ok(`{ parameterSets { name } }`)).parameterSets).toEqual([{ name: 'region_eu' }]);
  });
});
