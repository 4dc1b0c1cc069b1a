/**
 * Verify a sample of traces in a trace backend (Tempo, Jaeger) by id, span by span, and
 * estimate trace loss.
 *
 * Follows the README's "Traces at scale": verify a stratified random sample by id, report the
 * loss ratio with a Wilson interval, and cross-check it with the backend's own count of the
 * run's traces, polled until it agrees or settles (cross-check.ts).
 *
 * Everything the backend does wrong is a finding. Only an unreachable backend (connection
 * refused) aborts the run, because then no trace can be checked and the failure is tally's setup.
 */
import { CollectorError } from '../../core/errors.ts';
import { wilsonInterval, type WilsonInterval } from '../../reconcile/traces-sample.ts';
import { compareTrace, type TraceFinding, type TraceFindingKind } from '../tempo/trace-compare.ts';
import type { TraceExpectation } from '../tempo/expected.ts';
import type { TraceBackend } from './backend.ts';
import { noCrossCheck, pollCrossCheck, type CrossCheckOptions, type CrossCheckResult } from './cross-check.ts';

export type { CrossCheckOptions, CrossCheckResult } from './cross-check.ts';

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
  /** Cross-check with the backend's count (when the backend has one). */
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
 * @param backend the trace backend (readback/tempo/backend.ts, readback/jaeger/backend.ts).
 * @param expected seq → the trace that was sent.
 * @param options the sample and settings.
 * @returns counts, findings (sorted by seq), the Wilson interval of the trace-loss ratio, and the cross-check.
 * @throws CollectorError `TALLY_COLLECTOR_FAILED` (reason `connection_refused`) when the backend cannot be reached at all.
 * @see README.md "How it measures" (Traces at scale)
 */
export async function verifyTraceSample(
  backend: TraceBackend,
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
      outcomes[index] = await checkOne(backend, expected, seqs[index]);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(options.concurrency ?? 8, seqs.length)) }, worker));
  const summary = summarise(outcomes, options.maxFindings ?? 1000);
  const traceLoss = { ...wilsonInterval(summary.missing, summary.checked, options.confidence ?? 0.95), lost: summary.missing, checked: summary.checked };
  const crossCheck = options.crossCheck === undefined ? noCrossCheck(0) : await pollCrossCheck(backend, options.crossCheck, traceLoss);
  return { sampled: seqs.length, ...summary, traceLoss, crossCheck };
}

async function checkOne(backend: TraceBackend, expected: TraceExpectation, seq: number): Promise<Outcome> {
  const want = expected(seq);
  const base = { seq, traceId: want.traceId };
  try {
    const result = await backend.traceById(want.traceId);
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
