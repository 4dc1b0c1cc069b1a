/**
 * The cardinality budget before anything is sent: the plan's series and data points per
 * second (scenarios/cardinality.ts), its bytes per second when a byte limit asks for them
 * (counted by the encoders that send them, pipeline/export-bytes.ts) and its storage when a
 * calibration measured bytes per series; checked against `budget` (scenarios/budget.ts).
 * Exceeded with `enforce`, the scenario is refused (ConfigError, exit 2, the limit's pointer);
 * otherwise the exceeded limits are warnings.
 */
import { ConfigError, type InputProblem } from '../core/errors.ts';
import type { ExportBytesResult } from '../core/export-bytes-messages.ts';
import { budgetProblems, checkBudget, type BudgetCheck, type BudgetLimit } from '../scenarios/budget.ts';
import { cardinalityOf, type Cardinality } from '../scenarios/cardinality.ts';
import type { Plan } from '../scenarios/plan.ts';
import type { Scenario } from '../scenarios/types.ts';
import type { StorageCalibration } from '../readback/prometheus/calibrate.ts';
import { measureExportBytes } from './export-bytes.ts';

/** Bytes per second of one export's bytes, on the scenario's transport: remote-write bodies, or OTLP as sent. */
export function transportBytesPerSecond(scenario: Scenario, bytes: ExportBytesResult, exportIntervalMs: number): number | undefined {
  const perExport = scenario.telemetry?.remoteWrite !== undefined ? bytes.remoteWrite?.bytes : bytes.otlp?.wireBytes;
  return perExport === undefined ? undefined : (perExport * 1000) / exportIntervalMs;
}

/** The budget's checks of a plan, from the figures at hand. */
export function budgetChecks(scenario: Scenario, cardinality: Cardinality, bytes: ExportBytesResult | undefined, storage: StorageCalibration | undefined): BudgetCheck[] {
  if (scenario.budget === undefined) return [];
  const notes: Partial<Record<BudgetLimit, string>> = {};
  if (storage === undefined) notes.maxStorageBytes = 'not checked: no calibration (tally plan --calibrate <prometheus-url> measures bytes per series)';
  else notes.maxStorageBytes = `${cardinality.prometheusSeries} series × ${storage.bytesPerSeries} bytes per series measured at ${storage.url}`;
  const bytesPerSecond = bytes === undefined ? undefined : transportBytesPerSecond(scenario, bytes, cardinality.exportIntervalMs);
  return checkBudget(scenario.budget, {
    prometheusSeries: cardinality.prometheusSeries,
    dataPointsPerSecond: cardinality.dataPointsPerSecond,
    ...(bytesPerSecond === undefined ? {} : { bytesPerSecond }),
    ...(storage === undefined ? {} : { storageBytes: cardinality.prometheusSeries * storage.bytesPerSeries }),
  }, notes);
}

/**
 * Refuse an exceeded budget with `enforce`.
 * @throws ConfigError `TALLY_CONFIG_INVALID` listing every exceeded limit by its pointer.
 */
export function enforceBudget(scenario: Scenario, checks: readonly BudgetCheck[]): InputProblem[] {
  const problems = budgetProblems(checks);
  if (problems.length > 0 && scenario.budget?.enforce) throw new ConfigError(`${scenario.name}: the plan exceeds its budget (budget.enforce)`, problems);
  return problems;
}

/**
 * The budget check of `tally run` (and each sweep step), before anything is sent: bytes are
 * counted only when `maxBytesPerSecond` asks for them; storage is not checked (no calibration).
 * @returns the exceeded limits as warnings.
 * @throws ConfigError `TALLY_CONFIG_INVALID` when exceeded with `enforce`.
 */
export async function checkRunBudget(scenario: Scenario, plan: Plan): Promise<InputProblem[]> {
  const cardinality = scenario.budget === undefined ? undefined : cardinalityOf(plan, { convertHistogramsToNhcb: scenario.backends?.prometheus?.convertHistogramsToNhcb });
  if (cardinality === undefined || scenario.budget === undefined) return [];
  const bytes = scenario.budget.maxBytesPerSecond === undefined ? undefined : await measureExportBytes(scenario, plan);
  return enforceBudget(scenario, budgetChecks(scenario, cardinality, bytes, undefined));
}
