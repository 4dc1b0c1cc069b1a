/**
 * The knee search of `tally sweep`: coarse steps from `from` toward `to`, then bisection of
 * the bracket between the last step that met the SLO and the first that did not, until the
 * bracket is no wider than the resolution. The knee is the value furthest toward `to` that
 * still met the SLO (for a rate or a cardinality swept upward, the largest).
 *
 * A pure state machine: {@link nextStep} takes the steps run so far and says what to run
 * next, or how the search ended. It assumes the SLO holds up to the knee and fails beyond it
 * (monotone), as capacity and cardinality are; a step against that (a pass beyond a fail) is
 * reported, not hidden (`nonMonotone`).
 *
 * A step whose generator saturated says nothing about the system under test: the search
 * goes no further toward `to` than it, and looks for a clean failure below it; when there
 * is none within the resolution, the knee is reported as at least the last clean pass
 * (`generator-limited`). The caller re-runs a saturated step first (a busy host) when asked.
 *
 * @see https://en.wikipedia.org/wiki/Bisection_method
 */

/** How the values between `from` and `to` are spaced. */
export type SweepScale = 'linear' | 'log';

/** What the search works with. */
export interface SweepSearchOptions {
  /** The end expected to meet the SLO. */
  from: number;
  /** The end expected to break it. */
  to: number;
  /** Coarse values from `from` to `to`, both included (≥ 2). */
  coarseSteps: number;
  /** Bisect until the bracket is at most this wide (absolute, in the field's unit), or… */
  resolution: number;
  /** …at most this share of the bracket's upper end (`5%` → 0.05), whichever is set. */
  relative: boolean;
  /** Values are whole numbers. */
  integer: boolean;
  scale: SweepScale;
}

/** How one step came out. */
export type StepVerdict = 'pass' | 'fail' | 'generator-limited' | 'error';

/** A step run so far. */
export interface SearchStep {
  value: number;
  verdict: StepVerdict;
}

/** How a search ended. */
export type KneeStatus =
  /** The knee is in [bracket[0], bracket[1]), which is no wider than the resolution. */
  | 'found'
  /** Even `from` broke the SLO: the knee is below the range. */
  | 'below-range'
  /** Even `to` met it: the knee is at `to` or beyond. */
  | 'above-range'
  /** The bracket closed on a step whose generator saturated: the knee is at least the last clean pass, beyond what this generator shows. */
  | 'generator-limited'
  /** A step failed to run. */
  | 'error'
  /** The sweep was stopped before the search ended: the knee and bracket so far. */
  | 'incomplete';

/** The end of a search. */
export interface KneeResult {
  status: KneeStatus;
  /** The last value that met the SLO (undefined when none did). */
  knee?: number;
  /** [last pass, first fail] (or the limited step), when both exist. */
  bracket?: [number, number];
  /** The resolution the bracket reached, in the field's unit. */
  resolution: number;
  /** A step met the SLO beyond one that broke it. */
  nonMonotone: boolean;
}

/** What to run next: a value, and whether it is a coarse or a bisection step. */
export type NextStep = { value: number; phase: 'coarse' | 'bisect' } | { done: KneeResult };

/** Round a value the way the field holds it. */
function fit(o: SweepSearchOptions, value: number): number {
  return o.integer ? Math.round(value) : Number(value.toPrecision(12));
}

/** The coarse values, from `from` to `to` (duplicates removed after rounding). */
export function coarseValues(o: SweepSearchOptions): number[] {
  const n = Math.max(2, o.coarseSteps);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const f = i / (n - 1);
    const v = o.scale === 'log' ? o.from * (o.to / o.from) ** f : o.from + (o.to - o.from) * f;
    const value = fit(o, i === n - 1 ? o.to : v);
    if (!out.includes(value)) out.push(value);
  }
  return out;
}

/** The widest bracket that counts as resolved, for a bracket ending at `upper`. */
export function resolutionAt(o: SweepSearchOptions, upper: number): number {
  const r = o.relative ? Math.abs(upper) * o.resolution : o.resolution;
  return o.integer ? Math.max(1, r) : r;
}

/** The middle of a bracket, on the search's scale. */
function middle(o: SweepSearchOptions, a: number, b: number): number {
  return fit(o, o.scale === 'log' ? Math.sqrt(a * b) : (a + b) / 2);
}

/** Distance toward `to`: positive when `b` is further than `a`. */
function further(o: SweepSearchOptions, a: number, b: number): boolean {
  return o.to >= o.from ? b > a : b < a;
}

/**
 * What to run next, given the steps so far (in the order they ran). A step that broke the
 * SLO (`fail`) and a step whose generator saturated (`generator-limited`) both close the
 * bracket from above; the search bisects below the nearest of them, so a clean failure
 * below a saturated step is still found. Only when the bracket closes on a saturated step
 * is the knee beyond what this generator can show.
 * @returns the next value and its phase, or the result.
 */
export function nextStep(o: SweepSearchOptions, steps: readonly SearchStep[]): NextStep {
  const valuesOf = (...verdicts: StepVerdict[]): number[] => steps.filter((s) => verdicts.includes(s.verdict)).map((s) => s.value);
  const nearest = (values: number[]): number | undefined => values.reduce<number | undefined>((best, v) => (best === undefined || further(o, v, best) ? v : best), undefined);
  const furthest = (values: number[]): number | undefined => values.reduce<number | undefined>((best, v) => (best === undefined || further(o, best, v) ? v : best), undefined);
  const passes = valuesOf('pass');
  const firstFail = nearest(valuesOf('fail'));
  const lastPass = furthest(passes);
  const nonMonotone = lastPass !== undefined && firstFail !== undefined && further(o, firstFail, lastPass);
  if (steps.some((s) => s.verdict === 'error')) {
    return { done: { status: 'error', resolution: 0, nonMonotone, ...(lastPass === undefined ? {} : { knee: lastPass }) } };
  }
  // The bracket's upper end: the first step toward `to` that broke the SLO or saturated the generator.
  const upper = nearest(valuesOf('fail', 'generator-limited'));
  if (upper === undefined) {
    const next = coarseValues(o).find((v) => !steps.some((s) => s.value === v));
    if (next !== undefined) return { value: next, phase: 'coarse' };
    return { done: { status: 'above-range', resolution: 0, nonMonotone, ...(lastPass === undefined ? {} : { knee: lastPass }) } };
  }
  const limited = upper !== firstFail;
  const pass = furthest(passes.filter((v) => further(o, v, upper)));
  if (pass === undefined) return { done: { status: limited ? 'generator-limited' : 'below-range', resolution: 0, nonMonotone } };
  const width = Math.abs(upper - pass);
  const mid = middle(o, pass, upper);
  if (width <= resolutionAt(o, Math.max(Math.abs(pass), Math.abs(upper))) || mid === pass || mid === upper || steps.some((s) => s.value === mid)) {
    return { done: { status: limited ? 'generator-limited' : 'found', knee: pass, bracket: [pass, upper], resolution: width, nonMonotone } };
  }
  return { value: mid, phase: 'bisect' };
}

/**
 * The knee so far, for a sweep stopped before its search ended: the search's result when it
 * had ended, else `incomplete` with the last pass and the first fail seen.
 */
export function kneeSoFar(o: SweepSearchOptions, steps: readonly SearchStep[]): KneeResult {
  const next = nextStep(o, steps);
  if ('done' in next) return next.done;
  const values = (verdict: StepVerdict): number[] => steps.filter((s) => s.verdict === verdict).map((s) => s.value);
  const pass = values('pass').reduce<number | undefined>((best, v) => (best === undefined || further(o, best, v) ? v : best), undefined);
  const fail = values('fail').filter((v) => pass === undefined || further(o, pass, v)).reduce<number | undefined>((best, v) => (best === undefined || further(o, v, best) ? v : best), undefined);
  // Not monotone: a pass beyond a step that already broke the SLO (as nextStep says it).
  const firstFail = values('fail').reduce<number | undefined>((best, v) => (best === undefined || further(o, v, best) ? v : best), undefined);
  const nonMonotone = pass !== undefined && firstFail !== undefined && further(o, firstFail, pass);
  const r: KneeResult = { status: 'incomplete', resolution: 0, nonMonotone };
  if (pass !== undefined) r.knee = pass;
  if (pass !== undefined && fail !== undefined) {
    r.bracket = [pass, fail];
    r.resolution = Math.abs(fail - pass);
  }
  return r;
}
