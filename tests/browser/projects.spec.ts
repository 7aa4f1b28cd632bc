// Projects from the app's header in the web shell: create a pancreas project, see the page follow it,
// find both projects under Recent and switch back; a bad folder is refused with a sentence.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import { startWebShell, type WebShell } from './webShell';
import { apiCall } from './viewerPage';

test.describe.configure({ mode: 'serial' });

let shell: WebShell;
let page: Page;
let scratch = '';
const problems: string[] = [];

test.beforeAll(async ({ browser }) => {
  scratch = mkdtempSync(join(tmpdir(), 'deformux-projects-'));
  shell = await startWebShell({ demoCases: 1, demoDims: [32, 32, 16] });
  page = await browser.newPage();
  page.on('pageerror', (e) => problems.push(e.message));
  // A call that fails names itself (Chromium's console line does not): none may, but the refused folder's 400.
  page.on('response', (r) => {
    if (r.status() >= 400 && !(r.status() === 400 && r.url().includes('/projects.open')))
      problems.push(`${r.status()} ${new URL(r.url()).pathname} ${r.request().postData() ?? ''}`);
  });
  page.on('console', (m) => {
    // The refused folder answers 400, which Chromium logs; failed responses are named above.
    if (m.type() === 'error' && !/Failed to load resource/.test(m.text())) problems.push(m.text());
  });
  await page.goto(shell.url);
  await expect(page.getByTestId('project-title')).toContainText('Kidney');
});

test.afterAll(async () => {
  await page?.close();
  await shell?.close();
  rmSync(scratch, { recursive: true, force: true });
});

test('create a pancreas project from the header; the page switches to it', async ({ request }) => {
  const kidneyDir = (await apiCall<{ dir: string }>(request, shell.origin, shell.token, 'project.info', {})).dir;
  await page.getByTestId('projects-button').click();
  await page.getByTestId('project-new-dir').fill(join(scratch, 'pancreas-study'));
  await page.getByTestId('project-new-name').fill('Pancreas study');
  await page.getByTestId('project-new-schema').selectOption('pancreas');
  await page.getByTestId('project-create').click();
  await expect(page.getByTestId('project-title')).toHaveText('Pancreas study · Pancreas (pancreas, tumor)');
  await expect(page.getByTestId('case-item')).toHaveCount(0);
  const info = await apiCall<{ schema: { name: string } }>(request, shell.origin, shell.token, 'project.info', {});
  expect(info.schema.name).toBe('pancreas');

  await page.getByTestId('projects-button').click();
  const recent = page.getByTestId('project-recent');
  await expect(recent).toHaveCount(2);
  await expect(recent.first()).toContainText('Pancreas study');
  await page.locator(`[data-testid="project-recent"][data-dir="${kidneyDir}"]`).click();
  await expect(page.getByTestId('project-title')).toContainText('Kidney (kidney, tumor, cyst)');
  await expect(page.getByTestId('case-item')).toHaveCount(1);
});

test('a folder that is not a project is refused with a sentence naming it', async () => {
  await page.getByTestId('projects-button').click();
  const missing = join(scratch, 'no-such-project');
  await page.getByTestId('project-open-dir').fill(missing);
  await page.getByTestId('project-open').click();
  await expect(page.getByTestId('projects-error')).toHaveText(
    `projects.open failed: ${missing}: does not exist; create a project there instead.`,
  );
  await expect(page.getByTestId('project-title')).toContainText('Kidney');
  expect(problems).toEqual([]);
});
