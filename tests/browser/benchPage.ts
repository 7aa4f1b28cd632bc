// Shared start of the browser label benchmarks: a web shell on one demo case of `dims`, Debian
// Chromium, and a page whose label editor has loaded (the `__deformuxLabels` test hook answers).
import { chromium, type Browser, type Page } from '@playwright/test';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from './chromium';
import { startWebShell, type WebShell } from './webShell';

interface LabelHook {
  __deformuxLabels?: { caseId(): string | null; counts(): number[] };
}

export async function openLabelBenchPage(
  dims: [number, number, number],
): Promise<{ shell: WebShell; browser: Browser; page: Page; close(): Promise<void> }> {
  const shell = await startWebShell({ demoCases: 1, demoDims: dims, startTimeoutMs: 300_000 });
  const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS, headless: true });
  const close = async () => {
    await browser.close();
    await shell.close();
  };
  try {
    const page = await browser.newPage({ viewport: { width: 1100, height: 800 } });
    await page.goto(shell.url);
    await page.waitForFunction(
      () => {
        const h = (globalThis as unknown as LabelHook).__deformuxLabels;
        return !!h && h.caseId() !== null && h.counts().length > 0;
      },
      undefined,
      { timeout: 300_000 },
    );
    return { shell, browser, page, close };
  } catch (err) {
    await close();
    throw err;
  }
}
