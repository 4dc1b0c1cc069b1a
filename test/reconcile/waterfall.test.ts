import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { TallyError } from '../../core/errors.ts';
import { createRng } from '../../core/rng.ts';
import { buildWaterfall, type CollectorStageInput, type Waterfall, type WaterfallInput } from '../../reconcile/waterfall.ts';
import { renderWaterfallMarkdown } from '../../reports/waterfall-render.ts';

const NO_COLLECTOR_LOSS: CollectorStageInput = {
  receiverAccepted: 0,
  receiverRefused: 0,
  receiverFailed: 0,
  processorDropped: 0,
  processorRefused: 0,
  processorInOutGap: 0,
  exporterSent: 0,
  exporterSendFailed: 0,
  exporterEnqueueFailed: 0,
  exporterCount: 1,
};

const stages = (w: Waterfall): [string, number][] => w.stages.map((s) => [s.stage, s.count]);
const steps = (w: Waterfall): [string, number, [string, number][], number][] =>
  w.steps.map((s) => [`${s.from}→${s.to}`, s.loss, s.attributed.map((a): [string, number] => [a.reason ? `${a.cause}:${a.reason}` : a.cause, a.count]), s.unattributed]);
const findings = (w: Waterfall): [string, string | undefined, number][] => w.findings.map((f) => [f.kind, f.cause ?? f.reason, f.count]);

describe('buildWaterfall: table cases', () => {
  test('nothing lost: every step zero, no findings', () => {
    const w = buildWaterfall({
      signal: 'metric_points',
      ledger: { sent: 500, acknowledged: 500, rejected: 0, failed: 0 },
      collector: { ...NO_COLLECTOR_LOSS, receiverAccepted: 500, exporterSent: 500 },
      backend: { name: 'prometheus', stored: 500, discarded: {} },
      queryable: 500,
    });
    assert.deepEqual(stages(w), [['sent', 500], ['acknowledged', 500], ['collector_accepted', 500], ['exported', 500], ['stored', 500], ['queryable', 500]]);
    assert.equal(w.lossTotal, 0);
    assert.deepEqual(w.findings, []);
  });

  test('no collector, no backend counters: first-hop losses admitted by the ledger, the rest unattributed', () => {
    const w = buildWaterfall({ signal: 'metric_points', ledger: { sent: 1000, acknowledged: 900, rejected: 60, failed: 40 }, queryable: 880 });
    assert.deepEqual(stages(w), [['sent', 1000], ['acknowledged', 900], ['queryable', 880]]);
    assert.deepEqual(steps(w), [
      ['sent→acknowledged', 100, [['rejected_partial_success', 60], ['failed_export', 40]], 0],
      ['acknowledged→queryable', 20, [], 20],
    ]);
    assert.deepEqual([w.lossTotal, w.attributedTotal, w.unattributedTotal], [120, 100, 20]);
    assert.equal(w.steps[1].lossRatio, 20 / 900);
  });

  test("tally's own queue drops add a generated stage", () => {
    const w = buildWaterfall({ signal: 'spans', ledger: { sent: 90, acknowledged: 90, rejected: 0, failed: 0, droppedByQueue: 10 } });
    assert.deepEqual(stages(w), [['generated', 100], ['sent', 90], ['acknowledged', 90]]);
    assert.deepEqual(steps(w)[0], ['generated→sent', 10, [['dropped_by_generator_queue', 10]], 0]);
  });

  test('with a collector: refusals split the failures, exporter losses admitted in order, over-admitted send failures', () => {
    const w = buildWaterfall({
      signal: 'spans',
      ledger: { sent: 10_000, acknowledged: 9960, rejected: 0, failed: 40 },
      collector: {
        ...NO_COLLECTOR_LOSS,
        receiverAccepted: 9960,
        receiverRefused: 30,
        processorRefused: 30,
        processorDropped: 5,
        exporterSent: 9900,
        exporterEnqueueFailed: 20,
        // Retried attempts: more failed than was lost.
        exporterSendFailed: 100,
        queueSizeAfter: 2,
      },
      queryable: 9890,
    });
    assert.deepEqual(steps(w), [
      ['sent→acknowledged', 40, [['refused_by_receiver', 30], ['failed_export', 10]], 0],
      ['acknowledged→collector_accepted', 0, [], 0],
      ['collector_accepted→exported', 60, [['dropped_by_processor', 5], ['enqueue_failed', 20], ['send_failed', 35]], 0],
      ['exported→queryable', 10, [], 10],
    ]);
    assert.equal(w.steps[0].attributed[0].detail, 'of which processors (memory_limiter) refused 30');
    assert.deepEqual(findings(w), [['admitted_beyond_loss', 'send_failed', 65], ['queue_not_empty', undefined, 2]]);
  });

  test('a stage reporting more than its input is an inconsistency, never a negative loss', () => {
    const w = buildWaterfall({
      signal: 'metric_points',
      ledger: { sent: 100, acknowledged: 100, rejected: 0, failed: 0 },
      // A shared collector: other clients' points counted too; two exporters (fan-out).
      collector: { ...NO_COLLECTOR_LOSS, receiverAccepted: 150, receiverRefused: 7, exporterSent: 300, exporterCount: 2 },
    });
    for (const s of w.steps) assert.ok(s.loss >= 0);
    assert.deepEqual(steps(w).map(([name, loss]) => [name, loss]), [['sent→acknowledged', 0], ['acknowledged→collector_accepted', 0], ['collector_accepted→exported', 0]]);
    assert.deepEqual(findings(w), [
      ['admitted_beyond_loss', 'refused_by_receiver', 7],
      ['inconsistency', undefined, 50],
      ['inconsistency', undefined, 150],
      ['fan_out', undefined, 2],
    ]);
  });

  test('backend discards after acknowledgement are causes at stored; refused ones are findings; absent stages pass causes on', () => {
    const withStored = buildWaterfall({
      signal: 'spans',
      ledger: { sent: 1000, acknowledged: 1000, rejected: 0, failed: 0 },
      backend: { name: 'tempo', received: 1000, stored: 970, discarded: { trace_too_large: 20, live_traces_exceeded: 4 }, refused: { rate_limited: 9 } },
      queryable: 970,
    });
    assert.deepEqual(steps(withStored), [
      ['sent→acknowledged', 0, [], 0],
      ['acknowledged→backend_received', 0, [], 0],
      ['backend_received→stored', 30, [['discarded_by_backend:live_traces_exceeded', 4], ['discarded_by_backend:trace_too_large', 20]], 6],
      ['stored→queryable', 0, [], 0],
    ]);
    assert.deepEqual(findings(withStored), [['backend_refused', 'rate_limited', 9]]);

    // No stored count: the discards explain the step into the next present stage.
    const skipped = buildWaterfall({ signal: 'spans', ledger: { sent: 1000, acknowledged: 1000, rejected: 0, failed: 0 }, backend: { name: 'tempo', discarded: { trace_too_large: 20 } }, queryable: 975 });
    assert.deepEqual(steps(skipped)[1], ['acknowledged→queryable', 25, [['discarded_by_backend:trace_too_large', 20]], 5]);

    // Nothing measured after the backend: the discards have no step to explain.
    const unplaced = buildWaterfall({ signal: 'spans', ledger: { sent: 10, acknowledged: 10, rejected: 0, failed: 0 }, backend: { name: 'tempo', discarded: { trace_too_large: 3 } } });
    assert.deepEqual(findings(unplaced), [['unplaced_cause', 'discarded_by_backend', 3]]);
  });

  test('negative or non-finite counts are a bug upstream', () => {
    for (const input of [
      { signal: 'spans', ledger: { sent: -1, acknowledged: 0, rejected: 0, failed: 0 } },
      { signal: 'spans', ledger: { sent: 1, acknowledged: 0, rejected: 0, failed: 0 }, queryable: Number.NaN },
      { signal: 'spans', ledger: { sent: 1, acknowledged: 1, rejected: 0, failed: 0 }, backend: { name: 'x', discarded: { a: Number.POSITIVE_INFINITY } } },
    ] as WaterfallInput[]) {
      assert.throws(() => buildWaterfall(input), (e) => e instanceof TallyError && e.code === 'TALLY_INTERNAL');
    }
  });
});

describe('buildWaterfall: properties', () => {
  test('every step: loss ≥ 0 and attributed + unattributed = loss; totals add up; loss covers the net drop (random inputs)', () => {
    const rng = createRng(7);
    for (let i = 0; i < 500; i++) {
      const n = (max: number): number => rng.int(max + 1);
      const sent = n(10_000);
      const input: WaterfallInput = {
        signal: i % 2 === 0 ? 'spans' : 'metric_points',
        ledger: { sent, acknowledged: n(sent + 100), rejected: n(200), failed: n(200), ...(i % 3 === 0 ? { droppedByQueue: n(50) } : {}) },
        ...(i % 4 !== 0
          ? { collector: { receiverAccepted: n(sent), receiverRefused: n(100), receiverFailed: n(10), processorDropped: n(50), processorRefused: n(50), processorInOutGap: n(50), exporterSent: n(sent), exporterSendFailed: n(300), exporterEnqueueFailed: n(50), exporterCount: 1 + n(1) } }
          : {}),
        ...(i % 5 !== 0 ? { backend: { name: 'b', ...(i % 2 === 0 ? { received: n(sent) } : {}), stored: n(sent), discarded: { x: n(100) }, refused: { y: n(100) } } } : {}),
        ...(i % 6 !== 0 ? { queryable: n(sent) } : {}),
      };
      const w = buildWaterfall(input);
      let loss = 0;
      let attributed = 0;
      for (const s of w.steps) {
        assert.ok(s.loss >= 0 && s.unattributed >= 0);
        const a = s.attributed.reduce((x, y) => x + y.count, 0);
        assert.equal(a + s.unattributed, s.loss);
        assert.equal(s.loss, Math.max(0, s.input - s.output));
        loss += s.loss;
        attributed += a;
      }
      assert.equal(w.lossTotal, loss);
      assert.equal(w.attributedTotal, attributed);
      assert.equal(w.unattributedTotal, loss - attributed);
      assert.ok(w.lossTotal >= w.stages[0].count - w.stages[w.stages.length - 1].count);
      assert.equal(w.steps.length, w.stages.length - 1);
    }
  });

  test('a pipeline that loses nothing reconciles to zero loss and no findings, whatever stages are present', () => {
    const rng = createRng(11);
    for (let i = 0; i < 100; i++) {
      const sent = rng.int(5000);
      const w = buildWaterfall({
        signal: 'spans',
        ledger: { sent, acknowledged: sent, rejected: 0, failed: 0, ...(i % 2 === 0 ? { droppedByQueue: 0 } : {}) },
        ...(i % 3 !== 0 ? { collector: { ...NO_COLLECTOR_LOSS, receiverAccepted: sent, exporterSent: sent } } : {}),
        ...(i % 4 !== 0 ? { backend: { name: 'b', received: sent, stored: sent, discarded: {} } } : {}),
        queryable: sent,
      });
      assert.equal(w.lossTotal, 0);
      assert.deepEqual(w.findings, []);
    }
  });
});

describe('renderWaterfallMarkdown', () => {
  test('renders stages, losses with ratios, causes, unattributed and findings (golden)', () => {
    const w = buildWaterfall({
      signal: 'spans',
      ledger: { sent: 10_000, acknowledged: 9960, rejected: 0, failed: 40 },
      collector: { ...NO_COLLECTOR_LOSS, receiverAccepted: 9960, receiverRefused: 30, exporterSent: 9900, exporterEnqueueFailed: 20, exporterSendFailed: 100 },
      backend: { name: 'tempo', received: 9900, discarded: { 'trace|too_large': 12.5 } },
      queryable: 9880,
    });
    const expected = [
      '## Loss waterfall: spans',
      '',
      '| stage | count | lost in the step | admitted by | unattributed |',
      '|---|---:|---:|---|---:|',
      '| sent | 10,000 | | | |',
      '| acknowledged (first hop) | 9,960 | 40 (0.40%) | refused by the receiver 30; failed export (no 2xx) 10 | 0 |',
      '| accepted by the collector receiver | 9,960 | 0 |  | 0 |',
      '| exported by the collector | 9,900 | 60 (0.60%) | enqueue failed (queue full) 20; send failed 40 | 0 |',
      '| received by the backend | 9,900 | 0 |  | 0 |',
      '| queryable (read-back) | 9,880 | 20 (0.20%) | discarded by the backend `trace\\|too_large` 12.5 | 7.5 |',
      '',
      'Lost in all: 120; admitted by a stage: 112.5; unattributed: 7.5.',
      '',
      'Findings:',
      '',
      '- `admitted_beyond_loss` at collector_accepted→exported: 60 (send_failed admits 100 items, 40 of them lost in this step)',
      '',
    ].join('\n');
    assert.equal(renderWaterfallMarkdown(w), expected);
  });
});
