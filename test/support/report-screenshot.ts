/**
 * `npm run docs:report [-- RUN_DIR]`: docs/report.png, the top of the report.html that
 * `npm start` writes (scenarios/smoke.yaml: 30 s of churn at 2,000 connections/s on the
 * embedded target, OTLP to the embedded receiver), as Debian's chromium draws it: from its
 * header to the latency spectrum. Without RUN_DIR it runs the smoke scenario first, into a
 * temporary directory.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPORT_HTML_FILE } from '../../pipeline/html-report.ts';
import { runScenario } from '../../pipeline/run.ts';
import { launchChromium, openReport } from './browser.ts';

const OUT = new URL('../../docs/report.png', import.meta.url).pathname;

let runDir = process.argv[2];
if (runDir === undefined) {
  runDir = join(await mkdtemp(join(tmpdir(), 'tally-docs-report-')), 'smoke');
  await runScenario({ scenarioPath: new URL('../../scenarios/smoke.yaml', import.meta.url).pathname, outDir: runDir, handleSignals: false });
}
const browser = await launchChromium({ width: 1280, height: 900 });
try {
  const opened = await openReport(browser, join(runDir, REPORT_HTML_FILE));
  if (opened.errors.length > 0) throw new Error(`the page logged errors: ${opened.errors.join('; ')}`);
  const spectrum = await opened.page.locator('#spectrum').boundingBox();
  if (spectrum === null) throw new Error('no spectrum section');
  await opened.page.screenshot({ path: OUT, fullPage: true, clip: { x: 0, y: 0, width: 1280, height: Math.ceil(spectrum.y + spectrum.height + 16) } });
  process.stdout.write(`${OUT} (from ${runDir})\n`);
} finally {
  await browser.close();
}
