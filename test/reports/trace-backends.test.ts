/**
 * A trace backend's sample in results.json, findings and summaries: a count that disagrees
 * with the sample after polling is a finding and is said in summary.md and on the terminal.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { backendsSection, type TraceBackendResults } from '../../reports/results-backends.ts';
import { backendSections, traceReadbackNote } from '../../reports/render-backends.ts';
import { wilsonInterval } from '../../reconcile/traces-sample.ts';

function sample(observedTraces: number, consistentWithSample: boolean): TraceBackendResults {
  return {
    url: 'http://127.0.0.1:3200', version: '2.0.1', generation: 'v1', tracesPlanned: 1000,
    sampled: 100, checked: 100, found: 100, missing: 0, incomplete: 0, altered: 0, failed: 0,
    counts: { missing_trace: 0, missing_span: 0, unexpected_span: 0, duplicate_span: 0, wrong_content: 0, query_failed: 0 },
    wrongContentByField: {}, findings: [], findingsTruncated: false,
    traceLoss: { ...wilsonInterval(0, 100), lost: 0, checked: 100 },
    crossCheck: {
      method: 'search', expectedTraces: 1000, observedTraces, lossRatio: 1 - observedTraces / 1000, lowerBound: false, consistentWithSample,
      endpoint: 'GET /api/search', failure: null, readings: 7, waitedMs: 6000, settledBy: consistentWithSample ? 'consistent' : 'stable',
    },
  };
}

test('a lasting disagreement between the count and the sample is a finding of its backend', () => {
  const { findings } = backendsSection({ tempo: sample(592, false), jaeger: sample(1000, true) });
  assert.deepEqual(findings.map((f) => [f.kind, f.count]), [['tempo_count_disagrees_with_sample', 408]]);
});

test('summary sections: one per trace backend; the disagreement and the readings are shown; the traces row says what was read back', () => {
  const results = { tempo: sample(592, false), jaeger: sample(1000, true) } as Parameters<typeof backendSections>[0];
  const sections = backendSections(results);
  assert.deepEqual(sections.map((s) => s.section), ['Tempo 2.0.1 (sampled traces)', 'Jaeger 2.0.1 (sampled traces)']);
  const cross = (i: number): string => new Map(sections[i].rows).get('cross-check') ?? '';
  assert.match(cross(0), /592 of 1000, 7 readings over 6\.0 s: DISAGREES/);
  assert.doesNotMatch(cross(1), /DISAGREES/);
  assert.match(traceReadbackNote(results) ?? '', /^yes: 100 sampled traces read by id from Tempo/);
  assert.equal(traceReadbackNote({} as Parameters<typeof backendSections>[0]), undefined);
});
