/**
 * `tally sweep <scenario> --vary <field> --from A --to B [--slo <thresholds>]`: the search
 * for the knee, as named stages: plan (scenarios/sweep-plan.ts: every problem refused before
 * anything is sent) → claim the sweep directory → steps, each a full run through
 * {@link runScenario} (TIME_WAIT drained first, an optional unjudged warm-up run, the
 * measured run judged by the SLO on its results.json, a saturated generator's step re-run
 * once) chosen by the pure search (scenarios/sweep-search.ts) → sweep.json, sweep.svg and
 * the table. sweep.json is rewritten after every step, so a stopped sweep still says what
 * it found.
 *
 * The directory: `sweep.json`, `sweep.svg`, and `steps/NN-<value>/` (each step's run
 * directory, with `scenario.yaml`, the step's scenario with header values redacted, beside its
 * results, and `terminal.txt`, what the run printed).
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { systemClock, type Clock } from '../core/clock.ts';
import { asTallyError, ConfigError, type InputProblem } from '../core/errors.ts';
import type { TextOut } from '../core/text-out.ts';
import { claimRunDir } from '../host/run-dir.ts';
import { drainTimeWait, timeWaitSockets, type TimeWaitDrain } from '../host/time-wait.ts';
import { writeFileAtomic } from '../host/files.ts';
import { renderSweep } from '../reports/sweep-render.ts';
import { sweepPlotSvg } from '../reports/sweep-plot.ts';
import { stepFigures, stepVerdict, validateSweepReport, type SweepReport, type SweepStep } from '../reports/sweep-report.ts';
import { readScenarioText } from '../scenarios/document-limits.ts';
import { planSweep, stepDocument, type SweepFlags, type SweepPlan } from '../scenarios/sweep-plan.ts';
import { kneeSoFar, nextStep, type KneeResult, type SearchStep } from '../scenarios/sweep-search.ts';
import { formatVaryValue } from '../scenarios/sweep-vary.ts';
import { parseScenario } from '../scenarios/load.ts';
import { planRun, type Endpoints } from '../scenarios/plan.ts';
import { checkRunBudget } from './budget.ts';
import { runScenario, type RunOptions, type RunOutcome } from './run.ts';
import { redactScenarioDocument } from './run-files.ts';
import { StopControl, waitUnlessStopped } from './stop.ts';
import { drainCollectorQueues } from './sweep-drain.ts';

/** Options of {@link runSweep}. */
export interface SweepOptions extends SweepFlags {
  scenarioPath: string;
  /** The sweep's directory; default `runs/sweep-<scenario>-<UTC time>`. */
  outDir?: string;
  overwrite?: boolean;
  /**
   * Start a step only once TIME_WAIT sockets are fewer than this many above their count when
   * the sweep started (default 1,000; other processes' sockets on a shared host are not ours to wait for)…
   */
  drainBelow?: number;
  /** …waiting at most this long (ms, default 75,000: a TIME_WAIT socket lives 60 s); then it starts anyway and says so. */
  drainMaxMs?: number;
  /** A pause before every step but the first, after the drains (ms, default 0): for a system that needs rest. */
  cooldownMs?: number;
  /** Runs more of a step whose generator saturated (a busy host), before it counts as generator-limited (default 1). */
  retryLimited?: number;
  stdout?: TextOut;
  clock?: Clock;
  stop?: StopControl;
  /** Install SIGINT/SIGTERM handlers (the CLI does). Default true. */
  handleSignals?: boolean;
  /** Told where each step's load and telemetry go (tests). */
  onEndpoints?: (endpoints: Endpoints) => void;
  /** The run of one step; default {@link runScenario} (tests inject one). */
  runStep?: (options: RunOptions) => Promise<RunOutcome>;
  /** TIME_WAIT reader (tests inject one); default /proc/net/sockstat. */
  readTimeWait?: () => number;
}

/** What a sweep returns. */
export interface SweepOutcome {
  outDir: string;
  report: SweepReport;
}

/** Default TIME_WAIT bound a step waits for. */
export const DEFAULT_DRAIN_BELOW = 1000;
/** Default longest wait for TIME_WAIT to drain (ms). */
export const DEFAULT_DRAIN_MAX_MS = 75_000;
/** Most steps one sweep runs (coarse and bisection together). */
export const MAX_SWEEP_STEPS = 60;

const SUGGESTION =
  "the generator, not the system under test, set the limit: this host cannot show the knee. Run the load from a host with more cores (or beside fewer other processes), or split it across several tally processes on several hosts (tally run --shard i/N with a --barrier, then tally merge; tally k8s render for a cluster), and sweep again from the last clean pass.";

function compactUtc(epochMs: number): string {
  return new Date(epochMs).toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
}

/** A TextOut that keeps what a step's run prints. */
function collector(): TextOut & { text(): string } {
  const parts: string[] = [];
  return { write: (t: string) => parts.push(t), isTTY: false, text: () => parts.join('') };
}

/** One line saying what the search found. */
export function kneeSummary(plan: SweepPlan, knee: KneeResult): string {
  const f = (v: number | undefined): string => (v === undefined ? '—' : formatVaryValue(plan.field, v));
  const field = plan.field.text;
  switch (knee.status) {
    case 'found':
      return `knee: ${field} = ${f(knee.knee)} (met the SLO; ${f(knee.bracket?.[1])} did not; bracket ${f(knee.bracket?.[0])}…${f(knee.bracket?.[1])}, width ${f(knee.resolution)})${knee.nonMonotone ? '; warning: a step met the SLO beyond one that broke it (not monotone)' : ''}`;
    case 'below-range':
      return `knee below the range: ${field} = ${f(plan.search.from)} (--from) already broke the SLO`;
    case 'above-range':
      return `knee above the range: ${field} = ${f(plan.search.to)} (--to) still met the SLO`;
    case 'generator-limited':
      if (knee.knee === undefined) return `no knee shown: tally's own generator saturated before any step met the SLO (from ${field} = ${f(plan.search.from)})`;
      return `knee above what this generator can show: ${field} ≥ ${f(knee.knee)}${knee.bracket ? `; at ${f(knee.bracket[1])} tally's own generator saturated` : ''}`;
    case 'error':
      return `the sweep stopped on a step that failed to run${knee.knee === undefined ? '' : `; the last pass was ${field} = ${f(knee.knee)}`}`;
    case 'incomplete':
      return `stopped before the search ended: so far ${knee.knee === undefined ? 'no step met the SLO' : `${field} = ${f(knee.knee)} met the SLO`}${knee.bracket ? ` and ${f(knee.bracket[1])} did not` : ''}`;
  }
}

/** The report as of now. */
function reportOf(plan: SweepPlan, steps: SweepStep[], knee: KneeResult, times: { startedMs: number; nowMs: number }, stop?: string): SweepReport {
  const text = (v: number): string => formatVaryValue(plan.field, v);
  const report: SweepReport = {
    schemaVersion: 1,
    scenario: plan.scenario.name,
    vary: { field: plan.field.text, pointer: plan.field.pointer, kind: plan.field.kind, unit: plan.field.unit },
    from: plan.search.from,
    to: plan.search.to,
    coarseSteps: plan.search.coarseSteps,
    scale: plan.search.scale,
    resolution: { value: plan.search.resolution, relative: plan.search.relative },
    slo: plan.slo,
    warmupMs: plan.warmupMs,
    steps,
    knee: {
      ...knee,
      ...(knee.knee === undefined ? {} : { kneeText: text(knee.knee) }),
      ...(knee.bracket === undefined ? {} : { bracketText: [text(knee.bracket[0]), text(knee.bracket[1])] as [string, string] }),
      summary: kneeSummary(plan, knee),
      ...(knee.status === 'generator-limited' ? { suggestion: SUGGESTION } : {}),
    },
    startedAt: new Date(times.startedMs).toISOString(),
    endedAt: new Date(times.nowMs).toISOString(),
    complete: stop === undefined,
  };
  if (stop !== undefined) report.incompleteReason = stop;
  return report;
}

/** State shared by the steps of one sweep. */
interface SweepRun {
  plan: SweepPlan;
  options: SweepOptions;
  outDir: string;
  stop: StopControl;
  out: TextOut;
  clock: Clock;
  /** TIME_WAIT sockets when the sweep started. */
  timeWaitBaseline: number;
}

/**
 * Run one scenario document into `dir`, keeping what it printed. The run reads the document
 * from a private temporary file (it may hold header values); `dir` gets it redacted, as plan.json does.
 */
async function runDocument(run: SweepRun, doc: Record<string, unknown>, dir: string): Promise<RunOutcome> {
  await mkdir(dir, { recursive: true });
  const privateDir = await mkdtemp(join(tmpdir(), 'tally-sweep-step-'));
  const scenarioPath = join(privateDir, 'scenario.yaml');
  await writeFile(scenarioPath, stringify(doc), { mode: 0o600 });
  const printed = collector();
  // A step's own stop switch: an abortOnFail threshold ends the step, not the sweep; the sweep's stop ends both.
  const stepStop = new StopControl();
  const unlink = run.stop.onStop((reason) => stepStop.stop(reason));
  try {
    return await (run.options.runStep ?? runScenario)({
      scenarioPath,
      outDir: dir,
      // The directory holds the step's scenario (and, from an earlier sweep, its files).
      overwrite: true,
      stdout: printed,
      handleSignals: false,
      stop: stepStop,
      clock: run.clock,
      ...(run.options.onEndpoints === undefined ? {} : { onEndpoints: run.options.onEndpoints }),
    });
  } finally {
    unlink();
    await rm(privateDir, { recursive: true, force: true });
    await writeFile(join(dir, 'scenario.yaml'), stringify(redactScenarioDocument(doc))).catch(() => {});
    await writeFile(join(dir, 'terminal.txt'), printed.text()).catch(() => {});
  }
}

/** Drain TIME_WAIT (only when the scenario makes connections). */
async function drainTimeWaitOf(run: SweepRun): Promise<TimeWaitDrain | undefined> {
  if (run.plan.scenario.load === undefined) return undefined;
  const below = run.timeWaitBaseline + (run.options.drainBelow ?? DEFAULT_DRAIN_BELOW);
  return drainTimeWait(below, run.options.drainMaxMs ?? DEFAULT_DRAIN_MAX_MS, { signal: run.stop.signal, read: run.options.readTimeWait });
}

/** The system's rest state before a run: TIME_WAIT drained, the collector's queues emptied, then the cooldown. */
async function rest(run: SweepRun, step: SweepStep, cooldown: boolean): Promise<void> {
  const tw = await drainTimeWaitOf(run);
  if (tw !== undefined) step.timeWait = { atStart: tw.atStart, waitedS: tw.waitedS, drained: tw.drained };
  const queue = await drainCollectorQueues(run.plan.scenario, run.options.drainMaxMs ?? DEFAULT_DRAIN_MAX_MS, { signal: run.stop.signal });
  if (queue !== undefined) step.collectorQueue = queue;
  const cooldownMs = run.options.cooldownMs ?? 0;
  if (cooldown && cooldownMs > 0) await waitUnlessStopped(cooldownMs, run.stop);
}

/**
 * Run step `index` at `value`: drained, warmed up, measured (again while its generator
 * saturated and retries are left).
 * @returns the step, or undefined when the sweep was stopped before its measured run started.
 */
async function runStep(run: SweepRun, index: number, value: number, phase: SweepStep['phase']): Promise<SweepStep | undefined> {
  const valueText = formatVaryValue(run.plan.field, value);
  const name = `${String(index).padStart(2, '0')}-${valueText.replace(/[^0-9A-Za-z.-]/g, '_')}`;
  const step: SweepStep = { index, phase, value, valueText, verdict: 'error', runDir: join('steps', name), attempts: 0 };
  const retries = run.options.retryLimited ?? 1;
  try {
    for (let attempt = 0; attempt <= retries; attempt++) {
      await rest(run, step, index > 1 || attempt > 0);
      if (run.plan.warmupMs > 0 && attempt === 0) {
        step.warmupRunDir = join('steps', `${name}-warmup`);
        await runDocument(run, stepDocument(run.plan, value, true), join(run.outDir, step.warmupRunDir));
      }
      if (run.stop.reason !== undefined) break;
      step.attempts = attempt + 1;
      const { results } = await runDocument(run, stepDocument(run.plan, value), join(run.outDir, step.runDir));
      step.verdict = stepVerdict(results);
      step.figures = stepFigures(results);
      step.thresholds = results.thresholds?.results ?? [];
      step.generator = { saturated: results.generator.saturated, reasons: results.generator.reasons };
      step.complete = results.complete;
      if (results.incompleteReason !== undefined) step.incompleteReason = results.incompleteReason;
      if (step.verdict === 'error') step.error = { code: results.incompleteReason ?? 'TALLY_INCOMPLETE', message: `the run ended early (${results.incompleteReason ?? 'incomplete'}): it says nothing of the SLO, so the sweep stops rather than count it as a failure` };
      if (step.verdict !== 'generator-limited' || run.stop.reason !== undefined) break;
    }
  } catch (error) {
    const e = asTallyError(error);
    step.verdict = 'error';
    step.error = { code: e.code, message: e.message.slice(0, 500) };
    step.attempts = Math.max(1, step.attempts);
  }
  return step.attempts === 0 ? undefined : step;
}

/**
 * The enforced budget at both ends of the range, before anything is sent: a sweep whose
 * steps would exceed it is refused whole (exit 2), not ended by that step mid-sweep.
 * @throws ConfigError `TALLY_CONFIG_INVALID`, each problem at its `/budget/…` pointer and naming the end.
 */
async function checkEndBudgets(plan: SweepPlan, clock: Clock): Promise<void> {
  const problems: InputProblem[] = [];
  for (const [flag, value] of [['from', plan.search.from], ['to', plan.search.to]] as const) {
    const { scenario } = parseScenario(stringify(stepDocument(plan, value)), `--${flag}`);
    if (scenario.budget?.enforce !== true) continue;
    try {
      await checkRunBudget(scenario, planRun(scenario, Math.ceil(clock.nowMs()), scenario.load?.workers ?? availableParallelism()));
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      problems.push(...error.problems.map((p) => ({ pointer: p.pointer, message: `with ${plan.field.text} = ${formatVaryValue(plan.field, value)} (--${flag}): ${p.message}` })));
    }
  }
  if (problems.length > 0) throw new ConfigError(`${plan.scenario.name}: the sweep's range exceeds the scenario's enforced budget (budget.enforce); nothing was sent`, problems);
}

/**
 * Run a sweep.
 * @throws ConfigError (exit 2) for bad flags, a scenario invalid at either end of the range, or
 *   an enforced budget exceeded at either end, before anything is sent.
 * @throws TallyError (exit 1) when the sweep's files cannot be written.
 */
export async function runSweep(options: SweepOptions): Promise<SweepOutcome> {
  const out = options.stdout ?? process.stdout;
  const clock = options.clock ?? systemClock;
  const plan = planSweep(await readScenarioText(options.scenarioPath), options, options.scenarioPath);
  await checkEndBudgets(plan, clock);
  const startedMs = clock.nowMs();
  const lock = await claimRunDir(options.outDir ?? join('runs', `sweep-${plan.scenario.name}-${compactUtc(startedMs)}`), { overwrite: options.overwrite ?? false });
  const stop = options.stop ?? new StopControl();
  const removeSignalHandlers = options.handleSignals !== false ? stop.handleProcessSignals() : () => {};
  const run: SweepRun = { plan, options, outDir: lock.dir, stop, out, clock, timeWaitBaseline: (options.readTimeWait ?? timeWaitSockets)() };
  const steps: SweepStep[] = [];
  const write = async (report: SweepReport): Promise<void> => {
    validateSweepReport(report);
    await writeFileAtomic(join(lock.dir, 'sweep.json'), `${JSON.stringify(report, null, 2)}\n`);
  };
  try {
    out.write(`sweep ${plan.scenario.name}: ${plan.field.text} from ${formatVaryValue(plan.field, plan.search.from)} to ${formatVaryValue(plan.field, plan.search.to)} into ${lock.dir}\n`);
    let knee: KneeResult | undefined;
    while (steps.length < MAX_SWEEP_STEPS && stop.reason === undefined) {
      const next = nextStep(plan.search, searchSteps(steps));
      if ('done' in next) {
        knee = next.done;
        break;
      }
      const step = await runStep(run, steps.length + 1, next.value, next.phase);
      if (step === undefined) break;
      steps.push(step);
      out.write(`  step ${step.index} (${step.phase}): ${plan.field.text} = ${step.valueText}: ${step.verdict}${step.error ? ` (${step.error.code})` : ''}\n`);
      await write(reportOf(plan, steps, kneeSoFar(plan.search, searchSteps(steps)), { startedMs, nowMs: clock.nowMs() }, 'running'));
    }
    const stopped = stop.reason ?? (knee === undefined ? `the search took more than ${MAX_SWEEP_STEPS} steps` : undefined);
    const report = reportOf(plan, steps, knee ?? kneeSoFar(plan.search, searchSteps(steps)), { startedMs, nowMs: clock.nowMs() }, stopped);
    if (steps.some((s) => s.figures !== undefined)) {
      await writeFileAtomic(join(lock.dir, 'sweep.svg'), sweepPlotSvg(report));
      report.plot = 'sweep.svg';
    }
    await write(report);
    out.write(renderSweep(report));
    return { outDir: lock.dir, report };
  } finally {
    removeSignalHandlers();
    await lock.release();
  }
}

/** The steps the search judges: a step cut short by a signal says nothing about the knee. */
function searchSteps(steps: readonly SweepStep[]): SearchStep[] {
  return steps.filter((s) => s.incompleteReason !== 'SIGINT' && s.incompleteReason !== 'SIGTERM').map((s) => ({ value: s.value, verdict: s.verdict }));
}
