/**
 * Validation in Chromium: the Validate button on an automation's page lists its issues with
 * their fields, and the workspace check page lists every automation's, linking to each object.
 */
import { describe, expect, it } from 'vitest';
import { Role } from '../../core/enums.js';
import { browserSuite } from '../helpers/e2e.js';
import { factories } from '../factories/index.js';

const suite = browserSuite();

describe('validation in the browser', () => {
  it('shows an automation\'s issues under Validate, and the workspace\'s on the check page', { timeout: 60_000 }, async () => {
    const t = suite.t;
    const f = factories(t);
    const orphan = await f.storage();
    const step = await f.etl(orphan, await f.storage());
    const chain = await f.chain([step]);
    await t.ok(`mutation($id: ID!) { pauseAutomation(id: $id) { id } }`, { id: step.id });

    const page = await suite.signedIn(await t.addUser(Role.VIEWER));
    await page.goto(`${t.url}/automations/${chain.id}`);
    await page.getByTestId('validate').click();
    const issue = page.locator('[data-testid="validation-issue"][data-type="CHAIN_STEP_INACTIVE"]');
    await expect.poll(() => issue.textContent()).toContain('PAUSED');
    expect(await issue.textContent()).toContain('stepIds[0]');

    await page.getByTestId('nav-check').click();
    await expect.poll(() => page.getByTestId('validation-issues').textContent()).toContain('no automation writes it');
    const link = page.locator('[data-testid="validation-issue"][data-type="INPUT_NOT_FED"] a');
    expect(await link.getAttribute('href')).toBe(`/datasources/${orphan.id}`);
    expect(await page.locator('[data-testid="validation-issue"][data-type="CHAIN_STEP_INACTIVE"]').count()).toBe(1);
    expect(await page.getByTestId('check-connections').count()).toBe(0); // a viewer does not log in to servers
  });
});
