/**
 * Verify a sample of traces in Tempo by id, span by span, and estimate trace loss.
 *
 * Follows the README's "Traces at scale": verify a stratified random sample by id, report the
 * loss ratio with a Wilson interval, and cross-check it with a count from Tempo itself
 * (TraceQL metrics `count_over_time` where the server has it, else search).
 *
 * Everything Tempo does wrong is a finding. Only an unreachable Tempo (connection refused)
 * aborts the run, because then no trace can be checked and the failure is tally's setup.
 */
import { CollectorError } from '../../core/errors.ts';
import { wilsonInterval, type WilsonInterval } from '../../reconcile/traces-sample.ts';
import { compareTrace, type TraceFinding, type TraceFindingKind } from './trace-compare.ts';
import type { TraceByIdOptions, TempoClient } from './client.ts';
import type { TraceExpectation } from './expected.ts';
import type { TempoFailure } from './types.ts';

/** How to cross-check the sample's loss estimate with Tempo's own count. */
export interface CrossCheckOptions {
  /** Traces the run sent into the searched window (the population the sample came from). */
  expectedTraces: number;
  /** Keep only hits that belong to the run (e.g. by trace id prefix). Default: all hits count. */
  isRunTrace?: (traceIdHex: string) => boolean;
  /** TraceQL spanset matching exactly one span per run trace (e.g. the root), for `count_over_time`. */
  count?: { traceql: string; startUnixS: number; endUnixS: number; stepMs: number };
  /** A search matching the run's traces; one of `tags` or `traceql`. `limit` should exceed `expectedTraces`. */
  search?: { tags?: Record<string, string>; traceql?: string; startUnixS: number; endUnixS: number; limit: number };
}

/** What the cross-check found. */
export interface CrossCheckResult {
  method: 'count_over_time' | 'search' | 'none';
  expectedTraces: number;
  /** Traces Tempo counted, or `null` when no count was obtained. */
  observedTraces: number | null;
  /** max(0, 1 − observed/expected), or `null`. */
  lossRatio: number | null;
  /** True when the search hit its limit: `observedTraces` is then a lower bound (so `lossRatio` an upper bound). */
  lowerBound: boolean;
  /** Whether `lossRatio` is compatible with the sample's interval; `null` when not compared. */
  consistentWithSample: boolean | null;
  endpoint: string | null;
  /** Why there is no count (`unsupported`, `bad_request`, …), when there is none. */
  failure: Pick<TempoFailure, 'reason' | 'status' | 'bodyText'> | null;
}

/** Options for {@link verifyTraceSample}. */
export interface VerifyTraceSampleOptions {
  /** Sequence numbers to check (from `sampleTraceSeqs`). */
  seqs: number[];
  /** Two-sided confidence for the loss interval. Default 0.95. */
  confidence?: number;
  /** Parallel trace reads. Default 8. */
  concurrency?: number;
  /** Most findings kept; counts stay complete. Default 1000. */
  maxFindings?: number;
  traceById?: TraceByIdOptions;
  crossCheck?: CrossCheckOptions;
}

/** The verification result (JSON-safe). */
export interface TraceSampleVerification {
  /** Traces in the sample. */
  sampled: number;
  /** Traces with an answer (found or not found): the loss denominator. */
  checked: number;
  found: number;
  missing: number;
  /** Found with at least one missing span. */
  incomplete: number;
  /** Found with at least one `wrong_content`, `unexpected_span` or `duplicate_span`. */
  altered: number;
  /** Reads that failed (excluded from `checked`). */
  failed: number;
  counts: Record<TraceFindingKind, number>;
  /** `wrong_content` findings by field. */
  wrongContentByField: Record<string, number>;
  findings: TraceFinding[];
  findingsTruncated: boolean;
  /** Trace loss: lost = missing, trials = checked. */
  traceLoss: WilsonInterval & { lost: number; checked: number };
  crossCheck: CrossCheckResult;
}

type Outcome = { state: 'found' | 'missing' | 'failed'; findings: TraceFinding[] };

/**
 * Read each sampled trace by id and compare it span by span with the expectation.
 * @param client a Tempo client (ideally after `detect()`, so v2 and metrics are used where present).
 * @param expected seq → the trace that was sent.
 * @param options the sample and settings.
 * @returns counts, findings (sorted by seq), the Wilson interval of the trace-loss ratio, and the cross-check.
 * @throws CollectorError `TALLY_COLLECTOR_FAILED` (reason `connection_refused`) when Tempo cannot be reached at all.
 * @see README.md "How it measures" (Traces at scale)
 */
export async function verifyTraceSample(
  client: TempoClient,
  expected: TraceExpectation,
  options: VerifyTraceSampleOptions,
): Promise<TraceSampleVerification> {
  const seqs = [...options.seqs].sort((a, b) => a - b);
  const outcomes = new Array<Outcome>(seqs.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < seqs.length) {
      const index = next;
      next += 1;
      outcomes[index] = await checkOne(client, expected, seqs[index], options.traceById);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(options.concurrency ?? 8, seqs.length)) }, worker));
  const summary = summarise(outcomes, options.maxFindings ?? 1000);
  const traceLoss = { ...wilsonInterval(summary.missing, summary.checked, options.confidence ?? 0.95), lost: summary.missing, checked: summary.checked };
  const crossCheck = options.crossCheck === undefined ? noCrossCheck(0) : await runCrossCheck(client, options.crossCheck, traceLoss);
  return { sampled: seqs.length, ...summary, traceLoss, crossCheck };
}

async function checkOne(client: TempoClient, expected: TraceExpectation, seq: number, opts: TraceByIdOptions | undefined): Promise<Outcome> {
  const want = expected(seq);
  const base = { seq, traceId: want.traceId };
  try {
    const result = await client.traceById(want.traceId, opts);
    if (!result.ok) {
      if (result.reason === 'not_found') return { state: 'missing', findings: [{ ...base, kind: 'missing_trace' }] };
      return { state: 'failed', findings: [{ ...base, kind: 'query_failed', reason: result.reason, observed: `${result.status ?? '-'} ${result.bodyText}` }] };
    }
    // An empty trace carries nothing that was sent: count it as lost, not as a trace with every span missing.
    if (result.value.spans.length === 0) return { state: 'missing', findings: [{ ...base, kind: 'missing_trace', observed: 'empty trace' }] };
    return { state: 'found', findings: compareTrace(want, result.value) };
  } catch (error) {
    if (!(error instanceof CollectorError)) throw error;
    const reason = (error.details as { reason?: string } | undefined)?.reason;
    if (reason === 'connection_refused') throw error;
    return { state: 'failed', findings: [{ ...base, kind: 'query_failed', reason: reason ?? error.code }] };
  }
}

function summarise(outcomes: Outcome[], maxFindings: number): Omit<TraceSampleVerification, 'sampled' | 'traceLoss' | 'crossCheck'> {
  const counts: Record<TraceFindingKind, number> = {
    missing_trace: 0, missing_span: 0, unexpected_span: 0, duplicate_span: 0, wrong_content: 0, query_failed: 0,
  };
  const wrongContentByField: Record<string, number> = {};
  const findings: TraceFinding[] = [];
  let found = 0, missing = 0, failed = 0, incomplete = 0, altered = 0;
  for (const outcome of outcomes) {
    if (outcome.state === 'found') found += 1;
    else if (outcome.state === 'missing') missing += 1;
    else failed += 1;
    if (outcome.findings.some((f) => f.kind === 'missing_span')) incomplete += 1;
    if (outcome.findings.some((f) => f.kind === 'wrong_content' || f.kind === 'unexpected_span' || f.kind === 'duplicate_span')) altered += 1;
    for (const finding of outcome.findings) {
      counts[finding.kind] += 1;
      if (finding.kind === 'wrong_content' && finding.field !== undefined) {
        wrongContentByField[finding.field] = (wrongContentByField[finding.field] ?? 0) + 1;
      }
      if (findings.length < maxFindings) findings.push(finding);
    }
  }
  const total = Object.values(counts).reduce((a, b) => a + b, 0);
  return { checked: found + missing, found, missing, incomplete, altered, failed, counts, wrongContentByField, findings, findingsTruncated: total > findings.length };
}

function noCrossCheck(expectedTraces: number, failure: CrossCheckResult['failure'] = null, endpoint: string | null = null): CrossCheckResult {
  return { method: 'none', expectedTraces, observedTraces: null, lossRatio: null, lowerBound: false, consistentWithSample: null, endpoint, failure };
}

async function runCrossCheck(client: TempoClient, options: CrossCheckOptions, interval: WilsonInterval): Promise<CrossCheckResult> {
  let lastFailure: CrossCheckResult['failure'] = null;
  let lastEndpoint: string | null = null;
  // countOverTime answers `unsupported` without a request when metrics were probed absent; that reason is kept.
  if (options.count !== undefined) {
    const { traceql, startUnixS, endUnixS, stepMs } = options.count;
    const result = await client.countOverTime(traceql, startUnixS, endUnixS, stepMs);
    if (result.ok) return judged('count_over_time', options.expectedTraces, Math.round(result.value.total), false, result.endpoint, interval);
    lastFailure = { reason: result.reason, status: result.status, bodyText: result.bodyText };
    lastEndpoint = result.endpoint;
  }
  const search = options.search;
  if (search !== undefined) {
    const window = { startUnixS: search.startUnixS, endUnixS: search.endUnixS, limit: search.limit };
    const result = search.traceql !== undefined
      ? await client.searchTraceQL(search.traceql, window)
      : await client.search({ tags: search.tags ?? {}, ...window });
    if (result.ok) {
      const keep = options.isRunTrace ?? (() => true);
      const ids = new Set(result.value.traces.map((hit) => hit.traceId).filter(keep));
      return judged('search', options.expectedTraces, ids.size, result.value.limitReached, result.endpoint, interval);
    }
    lastFailure = { reason: result.reason, status: result.status, bodyText: result.bodyText };
    lastEndpoint = result.endpoint;
  }
  return noCrossCheck(options.expectedTraces, lastFailure, lastEndpoint);
}

function judged(
  method: 'count_over_time' | 'search', expectedTraces: number, observed: number, lowerBound: boolean, endpoint: string, interval: WilsonInterval,
): CrossCheckResult {
  const lossRatio = expectedTraces === 0 ? 0 : Math.max(0, 1 - observed / expectedTraces);
  // A truncated search only bounds the loss from above; it contradicts the sample only when that bound is below the interval.
  const consistentWithSample = interval.ratio === null ? null
    : lowerBound ? lossRatio >= interval.lower : lossRatio >= interval.lower && lossRatio <= interval.upper;
  return { method, expectedTraces, observedTraces: observed, lossRatio, lowerBound, consistentWithSample, endpoint, failure: null };
}
