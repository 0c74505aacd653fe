/**
 * Templates in Chromium: an editor picks a built-in template from the gallery, fills its
 * parameters and a name prefix, and follows a link to what it made; then saves an automation as a
 * template of the workspace from its page, and finds it in the gallery.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Role } from '../../core/enums.js';
import { browserSuite } from '../helpers/e2e.js';

const suite = browserSuite();

describe('templates in the browser', () => {
  it('creates flows from a built-in template, and saves an automation as a template', { timeout: 60_000 }, async () => {
    const t = suite.t;
    mkdirSync(join(t.filesDir, 'incoming'), { recursive: true });
    writeFileSync(join(t.filesDir, 'incoming', 'data.csv'), 'id\n1\n');
    const page = await suite.signedIn(await t.addUser(Role.EDITOR));
    await page.goto(`${t.url}/`);
    await page.getByTestId('nav-templates').click();
    await page.locator('[data-testid="template-card"][data-id="builtin:csv-nightly"]').getByTestId('use-template').click();
    await page.getByTestId('template-prefix').fill('ui ');
    await page.locator('[data-testid="template-parameter"][data-name="hour"]').fill('4');
    await page.getByTestId('template-create').click();
    await expect.poll(() => page.getByTestId('template-created').textContent()).toContain('Created');
    await page.getByTestId('created-object').getByText('ui nightly load').click();
    await page.waitForURL((url) => url.pathname.startsWith('/automations/'));
    await expect.poll(() => page.getByTestId('definition').textContent()).toContain('Transform');

    page.once('dialog', (dialog) => void dialog.accept('my nightly load'));
    await page.getByTestId('save-as-template').click();
    await page.waitForURL((url) => url.pathname === '/templates');
    await expect.poll(() => page.getByTestId('templates-page').textContent()).toContain('my nightly load');
    const { templates } = await t.ok(`{ templates { name builtIn size } }`);
    expect(templates).toContainEqual({ name: 'my nightly load', builtIn: false, size: 3 });
  });
});
