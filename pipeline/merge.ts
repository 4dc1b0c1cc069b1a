/**
 * `tally merge <shard-dir>... --out DIR`: the exact merge of a sharded run's shards into
 * one normal run directory (results.json, intervals.ndjson, summary.md, plan.json,
 * ledger.bin), on which `tally report`, `tally compare` and `tally reconcile` work as on
 * any run.
 *
 * Read each shard's shard.json, plan.json, ledger.bin and intervals.ndjson → check that
 * they are the shards of one plan (reports/merge-checks.ts) → union the ledgers, merge the
 * interval lines and the results inputs (pure: ledger/ledger-merge.ts,
 * reports/merge-intervals.ts, reports/merge-results.ts) → build results.json with the
 * code a run uses, thresholds judged on the whole run → write.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ShardError } from '../core/errors.ts';
import type { TextOut } from '../core/text-out.ts';
import { writeFileAtomic } from '../host/files.ts';
import { claimRunDir } from '../host/run-dir.ts';
import { decodeLedger, encodeLedger } from '../ledger/ledger-file.ts';
import { unionLedgers } from '../ledger/ledger-merge.ts';
import type { MetricsLedger } from '../ledger/ledger.ts';
import type { IntervalLine } from '../reports/aggregate.ts';
import { checkShardSet, type LoadedShard } from '../reports/merge-checks.ts';
import { mergeIntervalLines } from '../reports/merge-intervals.ts';
import { mergeShardInputs } from '../reports/merge-results.ts';
import { buildResults, validateResults, type Results } from '../reports/results.ts';
import { resultsFigures, thresholdsSection, withResultsHistograms } from '../reports/threshold-figures.ts';
import { parseScenario } from '../scenarios/load.ts';
import { planRun } from '../scenarios/plan.ts';
import { scenarioHash } from '../scenarios/scenario-hash.ts';
import { writeFinalResults } from './results-files.ts';
import { LEDGER_FILE, PLAN_FILE, type SavedPlan } from './run-files.ts';
import { readShardRecord } from './shard-files.ts';

/** Options of {@link mergeRuns}. */
export interface MergeOptions {
  runDirs: readonly string[];
  outDir: string;
  /** Merge shards that did not finish, or are missing; the result is marked incomplete. */
  allowIncomplete?: boolean;
  overwrite?: boolean;
  stdout?: TextOut;
}

/** One shard's directory as read. */
interface ShardDir extends LoadedShard {
  ledger?: MetricsLedger;
  lines: IntervalLine[];
}

/** intervals.ndjson's lines (a torn last line is left out). */
async function readIntervalLines(runDir: string): Promise<IntervalLine[]> {
  const text = await readFile(join(runDir, 'intervals.ndjson'), 'utf8').catch(() => '');
  const lines: IntervalLine[] = [];
  for (const row of text.split('\n')) {
    if (row.trim() === '') continue;
    try {
      lines.push(JSON.parse(row) as IntervalLine);
    } catch {
      break;
    }
  }
  return lines;
}

/**
 * One shard's directory, read.
 * @throws ShardError `TALLY_MERGE_NOT_A_SHARD` without shard.json or plan.json.
 */
async function loadShard(runDir: string): Promise<ShardDir> {
  const record = await readShardRecord(runDir);
  let saved: SavedPlan;
  try {
    saved = JSON.parse(await readFile(join(runDir, PLAN_FILE), 'utf8')) as SavedPlan;
  } catch (cause) {
    throw new ShardError('TALLY_MERGE_NOT_A_SHARD', `${runDir} holds no readable ${PLAN_FILE}`, { cause, details: { runDir } });
  }
  // A shard stopped before the end of its load has no ledger.bin yet: it merges as one that sent nothing more.
  const bytes = await readFile(join(runDir, LEDGER_FILE)).catch(() => undefined);
  return { runDir, record, saved, ...(bytes === undefined ? {} : { ledger: decodeLedger(bytes) }), lines: await readIntervalLines(runDir) };
}

/**
 * Merge the shards.
 * @returns the merged directory and its results.json.
 * @throws ShardError (exit 2) when the directories are not the complete shards of one
 * plan (codes `TALLY_MERGE_*`: core/errors.ts ShardError); ConfigError for an output
 * directory that cannot be used.
 */
export async function mergeRuns(o: MergeOptions): Promise<{ outDir: string; results: Results }> {
  const out = o.stdout ?? process.stdout;
  const shards = await Promise.all(o.runDirs.map(loadShard));
  const set = checkShardSet(shards, { allowIncomplete: o.allowIncomplete ?? false });
  const first = set.shards[0];
  const { scenario } = parseScenario(JSON.stringify(first.saved.scenario), `${first.runDir}/${PLAN_FILE}`);
  const threads = set.shards.reduce((a, s) => a + s.record.identity.threads, 0);
  const plan = planRun(scenario, set.startEpochMs, threads, { count: set.count });
  if (plan.runId !== set.runId) {
    throw new ShardError('TALLY_MERGE_PLAN_MISMATCH', `the shards' scenario plans run ${plan.runId}, not ${set.runId}`, { details: { planned: plan.runId, runId: set.runId } });
  }
  const ledgers = set.shards.flatMap((s) => (s.ledger === undefined ? [] : [s.ledger]));
  const ledger = ledgers.length > 0 ? unionLedgers(ledgers) : undefined;
  const intervals = mergeIntervalLines(set.shards.map((s) => s.lines));
  const input = mergeShardInputs({ scenario, plan, records: set.shards.map((s) => s.record), merge: set.summary, ledgerTotals: ledger?.totals, peaks: intervals.peaks });
  const results = buildResults(input);
  // Every thread of every shard (the plan's own count is one shard's).
  results.run.workers = threads;
  if (scenario.thresholds.length > 0) {
    results.thresholds = withResultsHistograms(results, (decoded) => thresholdsSection(scenario.thresholds, resultsFigures(results, decoded)));
  }
  validateResults(results);
  const dirLock = await claimRunDir(o.outDir, { overwrite: o.overwrite ?? false });
  try {
    const saved: SavedPlan = { version: 1, runId: plan.runId, startEpochMs: plan.startEpochMs, workers: threads, scenarioPath: first.saved.scenarioPath, scenario: first.saved.scenario, shard: { count: set.count }, scenarioHash: scenarioHash(first.saved.scenario) };
    if (plan.telemetry) {
      const t = plan.telemetry;
      saved.telemetry = { ticks: t.ticks, exportIntervalMs: t.exportIntervalMs, pointsPlanned: t.pointsPlanned, metrics: t.metrics.map((m) => ({ name: m.name, seriesCount: m.layout.seriesCount })) };
    }
    await writeFileAtomic(join(dirLock.dir, PLAN_FILE), `${JSON.stringify(saved, null, 2)}\n`);
    if (ledger !== undefined) await writeFileAtomic(join(dirLock.dir, LEDGER_FILE), encodeLedger(ledger));
    await writeFileAtomic(join(dirLock.dir, 'intervals.ndjson'), intervals.lines.map((l) => `${JSON.stringify(l)}\n`).join(''));
    await writeFinalResults(dirLock.dir, results, out);
  } finally {
    await dirLock.release();
  }
  return { outDir: dirLock.dir, results };
}
