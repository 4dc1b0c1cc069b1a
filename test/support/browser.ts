/**
 * A real browser for the HTML report's tests and measurements: Debian's `chromium` (found on
 * PATH; `.ci/run` installs it), driven headless by playwright-core, which downloads nothing.
 * Each launch gets a fresh user-data directory, removed on close. As root Chromium needs
 * `--no-sandbox`; networking features that would call out (QUIC, background networking,
 * component updates, sync) are off.
 *
 * `openReport` loads a report from disk and waits until its script says every plot is
 * drawn, collecting console errors, page errors and every request the page made;
 * `inspectPlots` reads what the page drew: each plot's legend and the pixels of its
 * canvas that carry a series' colour.
 *
 * @see https://playwright.dev/docs/api/class-browsertype#browser-type-launch-persistent-context
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { findExecutable } from '../peers/process.ts';

/** Chromium's flags: headless, as root, and nothing that reaches the network by itself. */
export const CHROMIUM_FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'] as const;

/** A launched browser; `close()` ends it and removes its profile. */
export interface Browser {
  context: BrowserContext;
  version: string;
  close(): Promise<void>;
}

/**
 * Launch Debian's chromium headless.
 * @throws Error when no `chromium` is on PATH (apt-get install chromium; .ci/run does).
 */
export async function launchChromium(viewport = { width: 1280, height: 900 }): Promise<Browser> {
  const executablePath = await findExecutable('chromium');
  if (executablePath === undefined) throw new Error('no chromium on PATH: apt-get install chromium (.ci/run installs it)');
  const profile = await mkdtemp(join(tmpdir(), 'tally-chromium-'));
  const context = await chromium.launchPersistentContext(profile, { executablePath, headless: true, args: [...CHROMIUM_FLAGS], viewport });
  return {
    context,
    version: context.browser()?.version() ?? 'unknown',
    close: async () => {
      await context.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}

/** What the page's script reports once every plot is drawn (ms since navigation start). */
export interface ReportTiming {
  plots: number;
  failed: number;
  /** Building every plot (the page's script, start to end). */
  drawMs: number;
  /** From navigation start to the frame after the last plot was drawn. */
  readyAtMs: number;
}

/** A report opened in the browser. */
export interface OpenedReport {
  page: Page;
  timing: ReportTiming;
  /** Console messages of type error, and uncaught page errors. */
  errors: string[];
  /** Every URL the page requested (the file itself, and nothing else for a self-contained page). */
  requests: string[];
}

/** Open an HTML file from disk and wait (at most `timeoutMs`) until its plots are drawn. */
export async function openReport(browser: Browser, path: string, timeoutMs = 60_000): Promise<OpenedReport> {
  const page = await browser.context.newPage();
  const errors: string[] = [];
  const requests: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('request', (r) => requests.push(r.url()));
  await page.goto(pathToFileURL(path).href);
  await page.waitForSelector('html[data-plots-ready]', { timeout: timeoutMs, state: 'attached' });
  const timing = (await page.evaluate('window.tallyReport')) as ReportTiming;
  return { page, timing, errors, requests };
}

/** One plot as drawn: its legend's series names and its canvas's pixels. */
export interface DrawnPlot {
  id: string;
  title: string;
  /** Series names in the legend (the x series first). */
  legend: string[];
  canvasWidth: number;
  canvasHeight: number;
  /** Pixels of each series' colour (within a small distance: antialiasing), by series index. */
  seriesPixels: number[];
  /** Every non-transparent pixel (axes and grid included). */
  paintedPixels: number;
}

/**
 * Read every plot the page drew. Runs in the page, as a string (this project's type
 * checker has no DOM types): the plot specs come from the page's JSON element, the rest
 * from the DOM uPlot built and the canvas's pixels.
 */
export async function inspectPlots(page: Page): Promise<DrawnPlot[]> {
  return (await page.evaluate(`(() => {
    const specs = JSON.parse(document.getElementById('tally-plots').textContent);
    const rgb = (hex) => [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
    return specs.map((spec) => {
      const fig = document.getElementById(spec.id);
      const canvas = fig.querySelector('canvas');
      const legend = [...fig.querySelectorAll('.u-legend .u-series .u-label')].map((e) => e.textContent);
      const colours = spec.series.map((s) => rgb(s.color));
      const seriesPixels = colours.map(() => 0);
      let paintedPixels = 0;
      if (canvas) {
        const d = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
        for (let i = 0; i < d.length; i += 4) {
          if (d[i + 3] === 0) continue;
          paintedPixels++;
          colours.forEach((c, k) => {
            if (Math.abs(d[i] - c[0]) + Math.abs(d[i + 1] - c[1]) + Math.abs(d[i + 2] - c[2]) <= 60) seriesPixels[k]++;
          });
        }
      }
      return { id: spec.id, title: fig.querySelector('.u-title')?.textContent ?? '', legend, canvasWidth: canvas?.width ?? 0, canvasHeight: canvas?.height ?? 0, seriesPixels, paintedPixels };
    });
  })()`)) as DrawnPlot[];
}

/** The page's printed figures: each element with `data-path`, its text and exact value. */
export async function printedFigures(page: Page): Promise<{ path: string; unit: string; value: string; text: string }[]> {
  return page.locator('[data-path]').evaluateAll((els) => els.map((e) => ({ path: e.getAttribute('data-path') ?? '', unit: e.getAttribute('data-unit') ?? '', value: e.getAttribute('data-value') ?? '', text: (e.textContent ?? '').trim() })));
}
