/**
 * A sweep's plan, before anything runs: the scenario document, the field to vary and its
 * range, the search's options, and the SLO (`--slo`, written as the scenario's `thresholds`,
 * or the scenario's own thresholds). Every problem is a ConfigError with a pointer (the
 * flag's, or the scenario's at the range's ends), so a bad sweep is refused whole before
 * its first step sends anything. Pure: the scenario's text and the flags in, the plan out.
 */
import { parse as parseYaml, stringify } from 'yaml';
import { ConfigError, type InputProblem } from '../core/errors.ts';
import { parseDurationMs } from '../core/units.ts';
import { parseBoundedDocument } from './document-limits.ts';
import { parseScenario, scenarioSchema } from './load.ts';
import type { SweepScale, SweepSearchOptions } from './sweep-search.ts';
import { documentValue, parseVaryField, parseVaryValue, withVaried, type VaryField } from './sweep-vary.ts';
import type { Scenario } from './types.ts';

/** The flags of `tally sweep`, as given. */
export interface SweepFlags {
  vary: string;
  from: string;
  to: string;
  /** Thresholds as a YAML or JSON mapping (`{ latency: ['p(99)<50ms'], errors: ['rate<0.01'] }`). */
  slo?: string;
  /** Coarse values (default 5). */
  steps?: string;
  /** `5%` (of the bracket's upper end) or a value in the field's unit (default `5%`). */
  resolution?: string;
  scale?: string;
  /** Each step's unjudged warm-up run (default `0s`: none). */
  warmup?: string;
}

/** What a sweep runs. */
export interface SweepPlan {
  /** The scenario as written (a mapping), its thresholds replaced by the SLO. */
  document: Record<string, unknown>;
  scenario: Scenario;
  field: VaryField;
  search: SweepSearchOptions;
  slo: { source: 'flag' | 'scenario'; thresholds: Record<string, unknown> };
  warmupMs: number;
}

/** Default coarse values from `from` to `to`. */
export const DEFAULT_COARSE_STEPS = 5;
/** Default resolution: 5 % of the bracket's upper end. */
export const DEFAULT_RESOLUTION = '5%';

function usage(flag: string, message: string): ConfigError {
  return new ConfigError(`--${flag}: ${message}`, [{ pointer: `/${flag}`, message }], { code: 'TALLY_USAGE' });
}

/** The SLO mapping from `--slo` text. @throws ConfigError `TALLY_USAGE` (pointer `/slo`). */
function parseSlo(text: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = parseYaml(text);
  } catch (cause) {
    throw usage('slo', `is not YAML or JSON: ${(cause as Error).message.split('\n')[0]}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value) || Object.keys(value).length === 0) {
    throw usage('slo', "must be a mapping of threshold names to expressions, as the scenario's thresholds: { latency: ['p(99)<50ms'], errors: ['rate<0.01'] }");
  }
  return value as Record<string, unknown>;
}

function searchOptions(field: VaryField, flags: SweepFlags, from: number, to: number): SweepSearchOptions {
  const steps = Number(flags.steps ?? DEFAULT_COARSE_STEPS);
  if (!Number.isInteger(steps) || steps < 2 || steps > 50) throw usage('steps', 'must be an integer from 2 to 50');
  const scale = (flags.scale ?? 'linear') as SweepScale;
  if (scale !== 'linear' && scale !== 'log') throw usage('scale', 'must be linear or log');
  if (scale === 'log' && (from <= 0 || to <= 0)) throw usage('scale', 'log needs --from and --to above 0');
  const text = (flags.resolution ?? DEFAULT_RESOLUTION).trim();
  const relative = text.endsWith('%');
  const resolution = relative ? Number(text.slice(0, -1)) / 100 : parseVaryValue(field, text, 'resolution');
  if (!Number.isFinite(resolution) || resolution <= 0 || (relative && resolution >= 1)) throw usage('resolution', 'must be above 0: a share such as 5% of the knee, or a value in the field\'s unit');
  return { from, to, coarseSteps: steps, resolution, relative, integer: field.kind === 'integer', scale };
}

/** Problems of the scenario at one end of the range, their pointers as the scenario's. */
function endProblems(document: Record<string, unknown>, field: VaryField, value: number, flag: 'from' | 'to'): (InputProblem & { end: string })[] {
  try {
    parseScenario(stringify(withVaried(document, field, value)), `--${flag}`);
    return [];
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return error.problems.map((p) => ({ pointer: p.pointer, message: p.message, end: `with ${field.text} = ${String(documentValue(field, value))} (--${flag})` }));
  }
}

/**
 * The ends' problems as one list: a problem of the SLO given by `--slo` points into `/slo`
 * (not the scenario's `/thresholds`), and one found at both ends is listed once.
 */
function sloPointers(problems: (InputProblem & { end: string })[], sloFromFlag: boolean): InputProblem[] {
  const byKey = new Map<string, { pointer: string; message: string; ends: string[] }>();
  for (const p of problems) {
    const pointer = sloFromFlag && (p.pointer === '/thresholds' || p.pointer.startsWith('/thresholds/')) ? `/slo${p.pointer.slice('/thresholds'.length)}` : p.pointer;
    const key = `${pointer}\u0000${p.message}`;
    const seen = byKey.get(key);
    if (seen === undefined) byKey.set(key, { pointer, message: p.message, ends: [p.end] });
    else seen.ends.push(p.end);
  }
  return [...byKey.values()].map((p) => ({ pointer: p.pointer, message: p.ends.length > 1 ? `${p.message} (at both ends of the range)` : `${p.ends[0]}: ${p.message}` }));
}

/**
 * Plan a sweep.
 * @param text the scenario file's text.
 * @throws ConfigError `TALLY_USAGE` for a bad flag (pointer `/vary`, `/from`, `/to`, `/slo`…),
 *   `TALLY_CONFIG_INVALID` when the scenario is invalid as written or at either end of the range.
 */
export function planSweep(text: string, flags: SweepFlags, sourceName = 'scenario'): SweepPlan {
  const { scenario } = parseScenario(text, sourceName);
  const document = parseBoundedDocument(text, sourceName) as Record<string, unknown>;
  const field = parseVaryField(flags.vary, scenarioSchema);
  const from = parseVaryValue(field, flags.from, 'from');
  const to = parseVaryValue(field, flags.to, 'to');
  if (from === to) throw usage('to', 'must differ from --from');
  for (const [flag, value] of [['from', from], ['to', to]] as const) {
    if (field.minimum !== undefined && value < field.minimum) throw usage(flag, `is below the field's minimum (${field.minimum})`);
    if (field.maximum !== undefined && value > field.maximum) throw usage(flag, `is above the field's maximum (${field.maximum})`);
  }
  const search = searchOptions(field, flags, from, to);
  let slo: SweepPlan['slo'];
  if (flags.slo !== undefined) slo = { source: 'flag', thresholds: parseSlo(flags.slo) };
  else if (document.thresholds !== undefined && scenario.thresholds.length > 0) slo = { source: 'scenario', thresholds: document.thresholds as Record<string, unknown> };
  else throw usage('slo', "a sweep needs an SLO: give --slo, or thresholds in the scenario");
  document.thresholds = slo.thresholds;
  const problems = sloPointers([...endProblems(document, field, from, 'from'), ...endProblems(document, field, to, 'to')], slo.source === 'flag');
  if (problems.length > 0) throw new ConfigError(`${sourceName}: the sweep's scenario is invalid at an end of its range`, problems);
  const warmupMs = flags.warmup === undefined ? 0 : parseWarmup(flags.warmup);
  return { document, scenario, field, search, slo, warmupMs };
}

function parseWarmup(text: string): number {
  try {
    const ms = parseDurationMs(text, '/warmup');
    if (ms > 3_600_000) throw usage('warmup', 'must be at most 1h');
    return ms;
  } catch (error) {
    if (error instanceof ConfigError && error.code === 'TALLY_USAGE') throw error;
    throw usage('warmup', 'must be a duration such as 2s (0s: no warm-up)');
  }
}

/**
 * A step's scenario document: the field at `value`, or for a warm-up, also the duration set
 * to `warmupMs` (at least one export interval) and no thresholds (a warm-up is not judged).
 */
export function stepDocument(plan: SweepPlan, value: number, warmup = false): Record<string, unknown> {
  const doc = withVaried(plan.document, plan.field, value);
  if (!warmup) return doc;
  delete doc.thresholds;
  const interval = (doc.telemetry as { exportInterval?: unknown } | undefined)?.exportInterval;
  const intervalMs = doc.telemetry === undefined ? 0 : parseDurationMs(typeof interval === 'string' ? interval : '5s');
  doc.duration = `${Math.max(plan.warmupMs, intervalMs, 1000)}ms`;
  return doc;
}
