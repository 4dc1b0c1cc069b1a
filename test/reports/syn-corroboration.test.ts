/**
 * The SYN-retransmit signature needs corroboration by the retransmit counters of the
 * namespace the sockets live in: connect times at 1 s with no SYN retransmitted there are
 * slow connects (`slow_connects`), not dropped SYNs. Pure, through buildResults.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { emptyLoadCounts, LOAD_HISTOGRAMS } from '../../core/messages.ts';
import type { PercentilesUs } from '../../core/histogram.ts';
import type { DatapathDelta } from '../../host/datapath-delta.ts';
import type { LoadTotals } from '../../reports/aggregate.ts';
import { buildResults, type ResultsInput } from '../../reports/results.ts';
import { LINEAR_SYN_SCHEDULE, corroborateSynSignature, findSynRetransmitSignature } from '../../reconcile/syn-retransmit.ts';
import { parseScenario } from '../../scenarios/load.ts';
import { planRun } from '../../scenarios/plan.ts';

const S = 1_000_000;

function totals(slowConnectsUs: number[]): LoadTotals {
  const c = emptyLoadCounts();
  c.started = c.completed = c.iterationsCompleted = c.ok = c.newConnections = 40_000;
  c.statusClasses['2xx'] = 40_000;
  c.stageStarted = { 0: 40_000 };
  c.slowConnectsUs = slowConnectsUs;
  const h = (count: number): PercentilesUs => ({ count, min: 1, p50: 1, p90: 1, p99: 1, p999: 1, max: 1, mean: 1 });
  return { ...c, histograms: Object.fromEntries(LOAD_HISTOGRAMS.map((n) => [n, h(n === 'dnsUs' ? 0 : 40_000)])) as LoadTotals['histograms'] };
}

function delta(counters: Record<string, number>): DatapathDelta {
  return { root: '/proc', intervalMs: 20_000, counters: Object.fromEntries(Object.entries(counters).map(([k, d]) => [k, { before: 0, after: d, delta: d, reset: false }])), gauges: {}, flags: [] };
}

function run(extra: Partial<ResultsInput>, slowConnectsUs: number[]) {
  const { scenario } = parseScenario('name: syn\nduration: 20s\nload: { executor: constant-arrival-rate, rate: 2000, target: "http://10.0.0.1:80/" }\n', 'syn.yaml');
  const plan = planRun(scenario, 1_700_000_000_000, 2);
  return buildResults({ scenario, plan, complete: true, elapsedMs: 20_000, load: totals(slowConnectsUs), cpuRatio: 0.3, eventLoopDelayP99MaxUs: 0, warnings: [], nodeVersion: 'v24', tallyVersion: '0', synSchedule: LINEAR_SYN_SCHEDULE, ...extra });
}

const kinds = (r: Record<string, any>): Record<string, number> => Object.fromEntries((r.findings as { kind: string; count: number }[]).map((f) => [f.kind, f.count]));
// 1,012 connects of about 1.0 s, as in the false finding the calibration met.
const atOneSecond = Array.from({ length: 1_012 }, (_, i) => S + 10_000 + i * 100);

test('1,012 one-second connects with no SYN retransmitted in the sockets\' namespace are slow connects, not a SYN-retransmit signature', () => {
  const r = run({ datapath: { source: 'self', delta: delta({ 'netstat.TcpExt.TCPSynRetrans': 0, 'snmp.Tcp.RetransSegs': 0 }) } }, atOneSecond);
  const k = kinds(r);
  assert.equal(k.syn_retransmit_signature, undefined);
  assert.equal(k.slow_connects, 1_012);
  assert.equal(r.summary.load.synRetransmit.connections, 1_012);
  assert.equal(r.summary.load.synRetransmit.corroborated, 0);
});

test('without retransmit counters of the sockets\' namespace the signature is not corroborated either', () => {
  // The datapath counters come from another namespace (the lab's node): they say nothing about the client's SYNs.
  const r = run({ datapath: { source: 'netns:lab-node', delta: delta({ 'netstat.TcpExt.TCPSynRetrans': 5000 }) } }, atOneSecond);
  assert.equal(kinds(r).syn_retransmit_signature, undefined);
  assert.equal(kinds(r).slow_connects, 1_012);
});

test('counters of the sockets\' namespace corroborate as many connections as the SYNs they retransmitted', () => {
  const twoRetransmits = Array.from({ length: 10 }, () => 2 * S + 50_000);
  const all = [...atOneSecond, ...twoRetransmits];
  const full = run({ datapath: { source: 'netns:lab-node', delta: delta({}) }, socketCounters: { source: 'self', delta: delta({ 'netstat.TcpExt.TCPSynRetrans': 1_012 + 20 }) } }, all);
  assert.deepEqual([kinds(full).syn_retransmit_signature, kinds(full).slow_connects], [1_022, undefined]);
  const part = run({ datapath: { source: 'self', delta: delta({ 'netstat.TcpExt.TCPSynRetrans': 65 }) } }, all);
  assert.deepEqual([kinds(part).syn_retransmit_signature, kinds(part).slow_connects], [65, 1_022 - 65]);
});

test('corroborateSynSignature spends the counter on the fewest retransmits first; RetransSegs stands in when TCPSynRetrans is missing', () => {
  const f = findSynRetransmitSignature([S + 1, S + 2, 2 * S + 1, 3 * S + 1], LINEAR_SYN_SCHEDULE);
  assert.deepEqual(corroborateSynSignature(f, { tcpSynRetrans: 3, retransSegs: 100 }), { corroborated: 2, uncorroborated: 2, counter: 'TCPSynRetrans', counterDelta: 3 });
  assert.deepEqual(corroborateSynSignature(f, { tcpSynRetrans: null, retransSegs: 100 }), { corroborated: 4, uncorroborated: 0, counter: 'RetransSegs', counterDelta: 100 });
  assert.deepEqual(corroborateSynSignature(f, undefined), { corroborated: 0, uncorroborated: 4, counter: null, counterDelta: null });
});
