#!/usr/bin/env node
/**
 * The `tally` CLI: parse flags, call the pipeline, map errors to exit codes
 * (bin/exit-codes.ts: 0 ok, 1 runtime failure, 2 bad input, 99 thresholds breached, 3 a regression
 * found by compare; an internal error prints a "this is a bug" banner).
 */
import { parseArgs } from 'node:util';
import { asTallyError, ConfigError, InternalError, TallyError, exitCodeFor } from '../core/errors.ts';
import { loadScenarioFile } from '../scenarios/load.ts';
import { availableParallelism } from 'node:os';
import { labCommand } from './commands/lab.ts';
import { compareCommand, reportCommand } from './commands/compare.ts';
import { mergeCommand } from './commands/merge.ts';
import { k8sCommand } from './commands/k8s.ts';
import { runShardOptions } from './commands/shard-flags.ts';
import { finishCollection } from '../pipeline/shard-collect.ts';
import { sweepCommand } from './commands/sweep.ts';
import { writeRunJUnit } from '../pipeline/report.ts';
import { planScenario, type PlanOptions } from '../pipeline/plan.ts';
import { renderPlan } from '../reports/plan-report.ts';
import { reconcileRun } from '../pipeline/reconcile.ts';
import { runScenario } from '../pipeline/run.ts';
import { targetCommand } from '../embedded/target-process.ts';
import { outputsFromFlags } from '../scenarios/outputs-spec.ts';
import { EXIT_REGRESSION_FOUND, EXIT_SIGINT, EXIT_SIGTERM, EXIT_THRESHOLDS_BREACHED } from './exit-codes.ts';

const USAGE = `usage:
  tally run <scenario> [--out DIR] [--overwrite] [--junit FILE] [--output KIND=URL ...]   run a scenario end to end
                                     (default out dir: runs/<run id>/; DIR must be new or empty, or --overwrite replaces
                                     the run files in it); --output pushes tally's own figures live: prometheus-remote-write=URL or otlp=URL
  tally run <scenario> --shard i/N (--start-at TIME | --barrier URL [--barrier-bind HOST] [--collect DIR]) [--out DIR]
                                     one shard of a run split across processes or pods (tally merge adds them up;
                                     --collect: every shard hands its run to shard 0, which merges into DIR/merged)
  tally merge <shard-dir>... --out DIR [--allow-incomplete] [--overwrite] [--junit FILE]   exact merge of a sharded run's shards
  tally k8s render <scenario> --shards N --namespace NS --image IMAGE [--schedule CRON] [--with-target] [--out DIR|-]
                                     Kubernetes manifests for a sharded run (tally k8s --help)
  tally validate <scenario>          check a scenario without sending anything
  tally plan <scenario> [--json] [--bucket-to N] [--calibrate PROMETHEUS_URL [--calibrate-series N]]
                                     series, data points/s, bytes per export (exact), each attribute's cost, the budget,
                                     planned arrivals and the port budget, without sending; --calibrate measures bytes per
                                     series on a Prometheus tally may write to
  tally sweep <scenario> --vary FIELD --from A --to B [--slo THRESHOLDS]   search for the knee: the largest value
                                     that still meets the SLO (tally sweep --help)
  tally reconcile <run-dir> [--scenario FILE]   read the backends again against the run's saved ledger
  tally compare <baseline-dir>... <candidate-dir> [--json|--markdown] [--junit FILE] [--html FILE]   regression verdicts (tally compare --help)
  tally report <run-dir> [--junit FILE] [--html]   re-render the summary, summary.md and JUnit (and report.html) from results.json
  tally lab up|down|status|exec ...  local datapath lab in network namespaces (root; tally lab --help)
  tally target --host H --port P --name N   HTTP target that names itself (what lab backends run)
exit codes: 0 ok, 1 runtime failure, 2 bad input, ${EXIT_THRESHOLDS_BREACHED} a threshold breached (run),
  ${EXIT_REGRESSION_FOUND} a regression found (compare), 143/130 stopped by SIGTERM/SIGINT (results kept, marked incomplete)`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  // These parse their own flags.
  if (command === 'lab') return labCommand(rest, process.stdout);
  if (command === 'target') return targetCommand(rest, process.stdout);
  if (command === 'compare') return compareCommand(rest, process.stdout);
  if (command === 'report') return reportCommand(rest, process.stdout);
  if (command === 'merge') return mergeCommand(rest, process.stdout);
  if (command === 'k8s') return k8sCommand(rest, process.stdout);
  if (command === 'sweep') return sweepCommand(rest, process.stdout);
  let parsed;
  try {
    parsed = parseArgs({ args: rest, allowPositionals: true, options: { out: { type: 'string' }, overwrite: { type: 'boolean' }, output: { type: 'string', multiple: true }, json: { type: 'boolean' }, scenario: { type: 'string' }, junit: { type: 'string' }, shard: { type: 'string' }, 'start-at': { type: 'string' }, barrier: { type: 'string' }, 'barrier-bind': { type: 'string' }, collect: { type: 'string' }, calibrate: { type: 'string' }, 'calibrate-series': { type: 'string' }, 'bucket-to': { type: 'string' }, help: { type: 'boolean', short: 'h' } } });
  } catch (err) {
    throw new ConfigError(`${(err as Error).message}\n${USAGE}`, [], { code: 'TALLY_USAGE' });
  }
  if (command === undefined || command === 'help' || command === '--help' || parsed.values.help) {
    process.stdout.write(`${USAGE}\n`);
    return command === undefined ? 2 : 0;
  }
  const [scenarioPath, ...extra] = parsed.positionals;
  if (scenarioPath === undefined || extra.length > 0) {
    throw new ConfigError(`tally ${command} takes exactly one ${command === 'reconcile' ? 'run directory' : 'scenario file'}\n${USAGE}`, [], { code: 'TALLY_USAGE' });
  }
  switch (command) {
    case 'validate': {
      const { warnings } = await loadScenarioFile(scenarioPath);
      for (const w of warnings) process.stdout.write(`warning: ${w.pointer}: ${w.message}\n`);
      process.stdout.write(`${scenarioPath}: valid\n`);
      return 0;
    }
    case 'plan': {
      const report = await planScenario(scenarioPath, availableParallelism(), planFlags(parsed.values));
      process.stdout.write(parsed.values.json ? `${JSON.stringify(report, null, 2)}\n` : renderPlan(report));
      return 0;
    }
    case 'reconcile': {
      // The positional is the run directory; --scenario supplies a document with redacted headers.
      await reconcileRun({ runDir: scenarioPath, scenarioPath: parsed.values.scenario });
      return 0;
    }
    case 'run': {
      const shardOptions = runShardOptions(parsed.values);
      const outcome = await runScenario({ scenarioPath, outDir: parsed.values.out, overwrite: parsed.values.overwrite, outputs: outputsFromFlags(parsed.values.output ?? []), ...shardOptions });
      // --collect: shard 0's verdict is the merged run's; the other shards hand theirs over and are done.
      const merged = shardOptions.collect === undefined ? undefined : await finishCollection(outcome, { collect: shardOptions.collect });
      const results = merged ?? outcome.results;
      if (parsed.values.junit !== undefined) await writeRunJUnit(parsed.values.junit, results);
      // Stopped by a signal: what was measured is written; exit as the shell convention says (128 + signal).
      if (results.incompleteReason === 'SIGTERM') return EXIT_SIGTERM;
      if (results.incompleteReason === 'SIGINT') return EXIT_SIGINT;
      // A breached threshold (or one that could not be measured) fails the run, as k6 exits.
      return results.thresholds?.ok === false ? EXIT_THRESHOLDS_BREACHED : 0;
    }
    default:
      throw new ConfigError(`unknown command "${command}"\n${USAGE}`, [], { code: 'TALLY_USAGE' });
  }
}

/** `tally plan`'s own flags. @throws ConfigError `TALLY_USAGE` for a bad number. */
function planFlags(v: { calibrate?: string; 'calibrate-series'?: string; 'bucket-to'?: string }): PlanOptions {
  const count = (flag: string, text: string | undefined, min: number): number | undefined => {
    if (text === undefined) return undefined;
    const n = Number(text);
    if (!Number.isInteger(n) || n < min) throw new ConfigError(`--${flag} must be an integer ≥ ${min}`, [{ pointer: `/${flag}`, message: `must be an integer ≥ ${min}` }], { code: 'TALLY_USAGE' });
    return n;
  };
  const usage = (flag: string, message: string): ConfigError => new ConfigError(`--${flag} ${message}`, [{ pointer: `/${flag}`, message }], { code: 'TALLY_USAGE' });
  if (v.calibrate !== undefined && !/^https?:$/.test(URL.parse(v.calibrate)?.protocol ?? '')) throw usage('calibrate', 'must be a Prometheus base URL, such as http://127.0.0.1:9090');
  if (v['calibrate-series'] !== undefined && v.calibrate === undefined) throw usage('calibrate-series', 'needs --calibrate (the Prometheus to send the calibration series to)');
  const series = count('calibrate-series', v['calibrate-series'], 100);
  if (series !== undefined && series > 1_000_000) throw usage('calibrate-series', 'must be at most 1000000');
  const bucketTo = count('bucket-to', v['bucket-to'], 1);
  return {
    ...(v.calibrate === undefined ? {} : { calibrate: v.calibrate }),
    ...(series === undefined ? {} : { calibration: { series } }),
    ...(bucketTo === undefined ? {} : { bucketTo }),
  };
}

function report(thrown: unknown): number {
  // An errno error that escaped (a file or socket of tally's own) is a runtime failure, not a bug.
  const err = thrown instanceof Error && !(thrown instanceof TallyError) ? asTallyError(thrown) : thrown;
  if (err instanceof ConfigError) {
    process.stderr.write(`error: ${err.message}\n`);
    for (const p of err.problems) process.stderr.write(`  ${p.pointer === '' ? '(document)' : p.pointer}: ${p.message}\n`);
  } else if (err instanceof InternalError || !(err instanceof TallyError)) {
    process.stderr.write(`tally: internal error — this is a bug, please report it with the run directory.\n`);
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  } else {
    process.stderr.write(`error [${err.code}]: ${err.message}\n`);
  }
  return exitCodeFor(err);
}

/** Once the command has ended, the process exits within this even if a socket or timer lingers (ms). */
const EXIT_GRACE_MS = 2000;

function exitSoon(code: number): void {
  process.exitCode = code;
  setTimeout(() => process.exit(code), EXIT_GRACE_MS).unref();
}

main(process.argv.slice(2)).then(exitSoon, (err: unknown) => exitSoon(report(err)));
