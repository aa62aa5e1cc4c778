import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../scripts/cli/paths.ts';
import { runReport } from './fixtures.ts';
import { renderHtml } from './html.ts';

/**
 * report.html in a real browser (Debian's chromium, headless): the verdicts a
 * person sees are read from the DOM, and a screenshot of each page lands in
 * out/test-output/report-html/ (or $PCI_TEST_OUTPUT/report-html/). .ci/run
 * installs chromium; without it this file tries apt-get once, and skips —
 * saying why — only when that fails too and this is not CI.
 */
const CHROMIUM = process.env.PCI_CHROMIUM || '/usr/bin/chromium';
const OUT = join(process.env.PCI_TEST_OUTPUT || join(REPO_ROOT, 'out', 'test-output'), 'report-html');

function ensureChromium(): string | undefined {
  if (existsSync(CHROMIUM)) return undefined;
  const r = spawnSync('apt-get', ['install', '-y', '--no-install-recommends', 'chromium'], { encoding: 'utf8', timeout: 600_000 });
  if (existsSync(CHROMIUM)) return undefined;
  const why = `no chromium at ${CHROMIUM}, and \`apt-get install -y --no-install-recommends chromium\` failed: ${(r.error?.message ?? r.stderr ?? '').trim().split('\n').slice(-1)[0]}`;
  if (process.env.CI) throw new Error(`${why} (CI must run the browser test: .ci/run installs chromium)`);
  return why;
}

const missing = ensureChromium();
if (missing) process.stderr.write(`SKIP report.html browser test: ${missing}\n`);

describe.skipIf(Boolean(missing))('report.html in headless Chromium', () => {
  let browser: Browser;
  let dir: string;
  beforeAll(async () => {
    browser = await chromium.launch({ executablePath: CHROMIUM });
    dir = mkdtempSync(join(tmpdir(), 'report-html-'));
    mkdirSync(OUT, { recursive: true });
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function open(name: string, html: string) {
    const file = join(dir, `${name}.html`);
    writeFileSync(file, html);
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const external: string[] = [];
    page.on('request', (r) => {
      if (!r.url().startsWith('file:')) external.push(r.url());
    });
    const errors: string[] = [];
    page.on('pageerror', (err) => errors.push(err.message));
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    await page.goto(`file://${file}`);
    return { page, external, errors };
  }

  const verdictsOf = (page: import('playwright-core').Page) =>
    page.$$eval('#requirements tr[data-requirement]', (rows) => Object.fromEntries(rows.map((r) => [r.getAttribute('data-requirement'), (r.querySelector('td.verdict') as HTMLElement).innerText.trim()])));

  it('a passing run: the page shows PASS, NOT TESTED where nothing tested, loads nothing from outside', async () => {
    const { page, external, errors } = await open('passing', renderHtml(runReport()));
    expect(await page.locator('#run-verdict').innerText()).toMatch(/^Run verdict: PASS — exit 0/);
    const v = await verdictsOf(page);
    expect(v['1.3.1']).toBe('PASS');
    expect(v['2.2.1']).toBe('PASS');
    expect(v['4.2.1']).toBe('NOT TESTED');
    expect(Object.values(v)).not.toContain('FAIL');
    expect(await page.locator('table.grid td[data-cell="blocked"]').count()).toBe(4);
    expect(external).toEqual([]);
    expect(errors).toEqual([]);
    await page.screenshot({ path: join(OUT, 'passing.png'), fullPage: true });
    await page.close();
  }, 60_000);

  it('a failing run: FAIL and INCONCLUSIVE as the DOM shows them, the mismatch in the grid, the finding visible', async () => {
    const { page, errors } = await open('failing', renderHtml(runReport({ failing: true })));
    expect(await page.locator('#run-verdict').innerText()).toMatch(/^Run verdict: FAIL — exit 1/);
    const v = await verdictsOf(page);
    expect(v['1.3.1']).toBe('FAIL');
    expect(v['1.2.1']).toBe('INCONCLUSIVE');
    expect(v['7.2.1']).toBe('PASS');
    expect(await page.locator('table.grid td[data-cell="mismatch"]').count()).toBe(1);
    await expect.poll(() => page.locator('#req-1-3-1 .finding').first().isVisible()).toBe(true);
    expect(await page.locator('#req-1-3-1 .finding').first().innerText()).toContain('datastore-ingress admits cde-frontend');
    expect(errors).toEqual([]);
    await page.screenshot({ path: join(OUT, 'failing.png'), fullPage: true });
    // Printing opens every folded section (the beforeprint handler runs under the page's CSP).
    await page.emulateMedia({ media: 'print' });
    await page.evaluate(() => window.dispatchEvent(new Event('beforeprint')));
    expect(await page.$$eval('details', (ds) => ds.every((d) => (d as HTMLDetailsElement).open))).toBe(true);
    const pdf = await page.pdf({ format: 'A4', landscape: true });
    writeFileSync(join(OUT, 'failing.pdf'), pdf);
    expect(pdf.length).toBeGreaterThan(10_000);
    await page.close();
  }, 60_000);
});
