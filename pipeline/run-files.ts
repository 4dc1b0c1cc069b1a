/**
 * What a run saves for `tally reconcile`: `plan.json` (the scenario document, the run's
 * start instant and worker count, from which the plan is re-derived exactly, since the
 * planner is pure) and `ledger.bin` (ledger/ledger-file.ts).
 *
 * Secrets: every header value (OTLP / remote-write headers and the Prometheus API's) is
 * replaced by `[REDACTED]` in plan.json, except those of a few known harmless headers
 * (core/header-secrets.ts: `X-Scope-OrgID`, `Accept`, …). File and environment-variable
 * credentials are references, kept as they are; URLs cannot carry credentials (the loader
 * refuses them). `tally reconcile --scenario FILE` supplies the
 * document again when a redacted header is needed.
 */
import { readFile } from 'node:fs/promises';
import { writeFileAtomic } from '../host/files.ts';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { ConfigError, ReconcileError } from '../core/errors.ts';
import { isSecretHeader, REDACTED } from '../core/header-secrets.ts';
import { decodeLedger, encodeLedger } from '../ledger/ledger-file.ts';
import type { MetricsLedger } from '../ledger/ledger.ts';
import { parseScenario } from '../scenarios/load.ts';
import { planRun, type Plan } from '../scenarios/plan.ts';
import { scenarioHash } from '../scenarios/scenario-hash.ts';
import type { Scenario } from '../scenarios/types.ts';

/** The file names in a run directory. */
export const PLAN_FILE = 'plan.json';
export const LEDGER_FILE = 'ledger.bin';


/** plan.json. */
export interface SavedPlan {
  version: 1;
  runId: string;
  startEpochMs: number;
  workers: number;
  /** The scenario file the run was started with (for people; the document below is what counts). */
  scenarioPath: string;
  /** The scenario document, secrets redacted. */
  scenario: Record<string, unknown>;
  /** For people: the series space. */
  telemetry?: { ticks: number; exportIntervalMs: number; pointsPlanned: number; metrics: { name: string; seriesCount: number }[] };
  /** A sharded run: this directory's shard (`index`), or a merged run (`count` alone). */
  shard?: { index?: number; count: number };
  /** A sharded or merged run: scenarios/scenario-hash.ts of `scenario`. */
  scenarioHash?: string;
}

function redactHeaders(headers: unknown): void {
  if (typeof headers !== 'object' || headers === null) return;
  const h = headers as Record<string, unknown>;
  for (const name of Object.keys(h)) if (isSecretHeader(name)) h[name] = REDACTED;
}

/**
 * The scenario document with secrets redacted. Pure.
 * @param doc the parsed scenario file.
 */
export function redactScenarioDocument(doc: Record<string, any>): Record<string, any> {
  const copy = structuredClone(doc);
  redactHeaders(copy.telemetry?.headers);
  redactHeaders(copy.backends?.prometheus?.auth?.headers);
  for (const output of Array.isArray(copy.outputs) ? copy.outputs : []) redactHeaders(output?.headers);
  return copy;
}

/**
 * The scenario file's document, secrets redacted (what plan.json keeps and the scenario hash is taken of).
 * @throws ConfigError `TALLY_CONFIG_UNREADABLE` when the scenario file cannot be read again.
 */
export async function readRedactedScenario(scenarioPath: string): Promise<Record<string, any>> {
  let text: string;
  try {
    text = await readFile(scenarioPath, 'utf8');
  } catch (cause) {
    throw new ConfigError(`cannot read scenario ${scenarioPath}`, [], { code: 'TALLY_CONFIG_UNREADABLE', cause });
  }
  return redactScenarioDocument(parseYaml(text) as Record<string, any>);
}

/**
 * Write plan.json.
 * @param document the redacted scenario document; read from `scenarioPath` when omitted.
 * @throws ConfigError `TALLY_CONFIG_UNREADABLE` when the scenario file cannot be read again.
 */
export async function savePlan(outDir: string, scenarioPath: string, plan: Plan, document?: Record<string, any>): Promise<void> {
  const scenario = document ?? (await readRedactedScenario(scenarioPath));
  const saved: SavedPlan = {
    version: 1,
    runId: plan.runId,
    startEpochMs: plan.startEpochMs,
    workers: plan.workers,
    scenarioPath,
    scenario,
  };
  if (plan.shard !== undefined) {
    saved.shard = { ...plan.shard };
    saved.scenarioHash = scenarioHash(scenario);
  }
  if (plan.telemetry) {
    const t = plan.telemetry;
    saved.telemetry = { ticks: t.ticks, exportIntervalMs: t.exportIntervalMs, pointsPlanned: t.pointsPlanned, metrics: t.metrics.map((m) => ({ name: m.name, seriesCount: m.layout.seriesCount })) };
  }
  await writeFileAtomic(join(outDir, PLAN_FILE), `${JSON.stringify(saved, null, 2)}\n`);
}

/** Write ledger.bin. */
export async function saveLedger(outDir: string, ledger: MetricsLedger): Promise<void> {
  await writeFileAtomic(join(outDir, LEDGER_FILE), encodeLedger(ledger));
}

/** A saved run, re-derived. */
export interface LoadedRun {
  saved: SavedPlan;
  scenario: Scenario;
  plan: Plan;
  /** Absent for a run without metrics (a traces-only run saves no ledger.bin). */
  ledger?: MetricsLedger;
}

/**
 * Check plan.json's shape before anything reads it (a hand-edited or truncated file, `null`).
 * @throws ConfigError `TALLY_CONFIG_INVALID` naming the first field that is wrong.
 */
function checkSavedPlan(saved: unknown): asserts saved is SavedPlan {
  const bad = (pointer: string, message: string): never => {
    throw new ConfigError(`${PLAN_FILE} is not a plan tally wrote: ${pointer || 'the document'} ${message}`, [{ pointer, message }]);
  };
  if (typeof saved !== 'object' || saved === null || Array.isArray(saved)) bad('', 'must be an object');
  const s = saved as Record<string, unknown>;
  if (s.version !== 1) bad('/version', 'must be 1 (the only plan.json version)');
  if (typeof s.runId !== 'string') bad('/runId', 'must be a string');
  if (typeof s.startEpochMs !== 'number' || !Number.isFinite(s.startEpochMs)) bad('/startEpochMs', 'must be a number');
  if (!Number.isInteger(s.workers) || (s.workers as number) < 1 || (s.workers as number) > 1024) bad('/workers', 'must be an integer from 1 to 1024');
  if (typeof s.scenario !== 'object' || s.scenario === null || Array.isArray(s.scenario)) bad('/scenario', 'must be an object');
  if (s.shard !== undefined) {
    const shard = s.shard as Record<string, unknown>;
    if (typeof shard !== 'object' || shard === null || !Number.isInteger(shard.count) || (shard.count as number) < 1) bad('/shard/count', 'must be an integer ≥ 1');
    if (shard.index !== undefined && (!Number.isInteger(shard.index) || (shard.index as number) < 0 || (shard.index as number) >= (shard.count as number))) bad('/shard/index', 'must be an integer in [0, count)');
  }
}

/**
 * Read a run directory back: plan.json → scenario → the same plan (checked by its run id), and
 * ledger.bin (not for a run that sent traces and no metrics: it has none).
 * @param scenarioText when given, the scenario document to use instead of plan.json's (to supply redacted headers).
 * @throws ConfigError `TALLY_CONFIG_UNREADABLE` for a missing or unreadable file (ledger.bin of a run with metrics included), `TALLY_CONFIG_INVALID`
 * for a scenario that no longer validates or plans another run; ReconcileError for a corrupt ledger.
 */
export async function loadRun(runDir: string, scenarioText?: string): Promise<LoadedRun> {
  let saved: unknown;
  try {
    saved = JSON.parse(await readFile(join(runDir, PLAN_FILE), 'utf8')) as unknown;
  } catch (cause) {
    throw new ConfigError(`${runDir} holds no readable ${PLAN_FILE} (was it written by tally run with metrics?)`, [{ pointer: '', message: `${PLAN_FILE} is expected` }], { code: 'TALLY_CONFIG_UNREADABLE', cause });
  }
  checkSavedPlan(saved);
  const { scenario } = parseScenario(scenarioText ?? JSON.stringify(saved.scenario), scenarioText === undefined ? `${runDir}/${PLAN_FILE}` : 'scenario');
  const plan = planRun(scenario, saved.startEpochMs, saved.workers, saved.shard);
  if (plan.runId !== saved.runId) {
    throw new ConfigError(`the scenario plans run ${plan.runId}, not ${saved.runId}`, [{ pointer: '/runId', message: 'the scenario the run was started with is expected' }]);
  }
  // A run that sent no metrics has no point ledger: its traces are re-verified from the plan alone.
  if ((plan.telemetry?.metrics.length ?? 0) === 0 && plan.traces !== undefined) return { saved, scenario, plan };
  let bytes: Uint8Array;
  try {
    bytes = await readFile(join(runDir, LEDGER_FILE));
  } catch (cause) {
    throw new ConfigError(`${runDir} holds no readable ${LEDGER_FILE}`, [{ pointer: '', message: `${LEDGER_FILE} is expected` }], { code: 'TALLY_CONFIG_UNREADABLE', cause });
  }
  const ledger = decodeLedger(bytes);
  const counts = plan.telemetry?.metrics.map((m) => m.layout.seriesCount) ?? [];
  if (ledger.ticks !== (plan.telemetry?.ticks ?? 0) || ledger.seriesCounts.join() !== counts.join()) {
    throw new ReconcileError(`${LEDGER_FILE} does not match the plan's series space`, { details: { ledgerTicks: ledger.ticks, planTicks: plan.telemetry?.ticks } });
  }
  return { saved, scenario, plan, ledger };
}
