/**
 * The cardinality budget (`budget`): normalisation, and the check of a plan's figures
 * against it. A limit is `ok`, `exceeded`, or `not_checked` (its figure unknown: storage
 * without a calibration, bytes not counted). Exceeded limits become problems with the
 * limit's JSON pointer: warnings, or with `enforce` a refusal. Pure.
 */
import type { InputProblem } from '../core/errors.ts';
import type { TallyScenario } from './scenario-document.ts';
import type { BudgetSpec } from './types.ts';

/** A budget limit's name. */
export type BudgetLimit = 'maxSeries' | 'maxDataPointsPerSecond' | 'maxBytesPerSecond' | 'maxStorageBytes';

/** One limit against its figure. */
export interface BudgetCheck {
  limit: BudgetLimit;
  pointer: string;
  max: number;
  /** The plan's figure; null when unknown. */
  value: number | null;
  unit: 'series' | 'data points per second' | 'bytes per second' | 'bytes';
  status: 'ok' | 'exceeded' | 'not_checked';
  /** Why it was not checked, or what the figure is. */
  note?: string;
}

/** The figures a budget is checked against (undefined: unknown). */
export interface BudgetFigures {
  prometheusSeries: number;
  dataPointsPerSecond: number;
  bytesPerSecond?: number;
  storageBytes?: number;
}

const UNITS: Record<BudgetLimit, BudgetCheck['unit']> = { maxSeries: 'series', maxDataPointsPerSecond: 'data points per second', maxBytesPerSecond: 'bytes per second', maxStorageBytes: 'bytes' };

/** Normalise a schema-valid `budget`. */
export function normaliseBudget(b: NonNullable<TallyScenario['budget']>): BudgetSpec {
  const out: BudgetSpec = { enforce: b.enforce ?? false };
  for (const k of ['maxSeries', 'maxDataPointsPerSecond', 'maxBytesPerSecond', 'maxStorageBytes'] as const) if (b[k] !== undefined) out[k] = b[k];
  return out;
}

/** Warnings: a budget with nothing to budget. */
export function budgetWarnings(doc: TallyScenario): InputProblem[] {
  if (doc.budget === undefined) return [];
  if ((doc.telemetry?.metrics?.length ?? 0) === 0) return [{ pointer: '/budget', message: 'is ignored: the scenario sends no metrics' }];
  return [];
}

/**
 * Check the figures against the budget.
 * @param notes why a figure is unknown, by limit (e.g. storage: no calibration).
 */
export function checkBudget(budget: BudgetSpec, figures: BudgetFigures, notes: Partial<Record<BudgetLimit, string>> = {}): BudgetCheck[] {
  const value: Record<BudgetLimit, number | undefined> = {
    maxSeries: figures.prometheusSeries,
    maxDataPointsPerSecond: figures.dataPointsPerSecond,
    maxBytesPerSecond: figures.bytesPerSecond,
    maxStorageBytes: figures.storageBytes,
  };
  const checks: BudgetCheck[] = [];
  for (const limit of ['maxSeries', 'maxDataPointsPerSecond', 'maxBytesPerSecond', 'maxStorageBytes'] as const) {
    const max = budget[limit];
    if (max === undefined) continue;
    const v = value[limit];
    const check: BudgetCheck = { limit, pointer: `/budget/${limit}`, max, value: v ?? null, unit: UNITS[limit], status: v === undefined ? 'not_checked' : v > max ? 'exceeded' : 'ok' };
    if (notes[limit] !== undefined) check.note = notes[limit];
    checks.push(check);
  }
  return checks;
}

/** The exceeded limits as problems (the limit's pointer, the figure against it). */
export function budgetProblems(checks: readonly BudgetCheck[]): InputProblem[] {
  return checks
    .filter((c) => c.status === 'exceeded')
    .map((c) => ({ pointer: c.pointer, message: `the plan needs ${Math.round(c.value!).toLocaleString('en-US')} ${c.unit}, above the budget's ${c.max.toLocaleString('en-US')}` }));
}
