/**
 * Shared set-up of the telemetry end-to-end tests: write a scenario to a temporary
 * directory and run it through `runScenario` (the CLI's pipeline) on real loopback
 * sockets, returning results.json and the interval log.
 */
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runScenario as runPipeline } from '../../pipeline/run.ts';

/** What one run left behind. */
export interface TelemetryRun {
  results: any;
  lines: any[];
  outDir: string;
  output: string;
}

/** Run scenario text end to end; the output directory is under the OS temp directory. */
export async function runScenario(text: string): Promise<TelemetryRun> {
  const dir = await mkdtemp(join(tmpdir(), 'tally-tel-'));
  const path = join(dir, 'scenario.yaml');
  await writeFile(path, text);
  let output = '';
  const { results, outDir } = await runPipeline({ scenarioPath: path, outDir: join(dir, 'out'), stdout: { write: (s: string) => (output += s), isTTY: false }, handleSignals: false });
  const lines = (await readFile(join(outDir, 'intervals.ndjson'), 'utf8')).trim().split('\n').filter(Boolean).map((s) => JSON.parse(s));
  return { results, lines, outDir, output };
}

/** Finding count of a kind (0 when absent). */
export function finding(results: any, kind: string): number {
  return results.findings.find((f: { kind: string }) => f.kind === kind)?.count ?? 0;
}
