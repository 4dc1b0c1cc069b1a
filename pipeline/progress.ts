/**
 * The live progress line: on a TTY, rewritten in place every interval; off a TTY, a plain
 * line every {@link PLAIN_PROGRESS_EVERY_MS}.
 */
import type { TextOut } from '../core/text-out.ts';
import type { MetricsLedger } from '../ledger/ledger.ts';
import type { SpanLedger } from '../ledger/span-ledger.ts';
import type { IntervalLine, RunAggregator } from '../reports/aggregate.ts';
import { renderProgress } from '../reports/render.ts';
import type { Plan } from '../scenarios/plan.ts';

/** Run time between two plain progress lines (ms). */
export const PLAIN_PROGRESS_EVERY_MS = 10_000;

/**
 * A progress printer for one run: OTLP points acknowledged vs sent when it sends metrics (or
 * nothing), spans acknowledged vs sent when it sends traces.
 * @returns a function to call with each interval line written.
 */
export function progressPrinter(out: TextOut, plan: Plan, aggregator: RunAggregator, ledger: MetricsLedger | undefined, spanLedger?: SpanLedger): (line: IntervalLine) => void {
  let lastPlainMs = 0;
  return (line) => {
    const text = renderProgress({
      elapsedMs: line.endMs,
      targetRatePerSecond: plan.load?.ratePerSecond,
      lastLine: line,
      errorsTotal: aggregator.errorTotal(),
      p99SoFarUs: aggregator.hasLoad ? aggregator.loadTotals().histograms.latencyUs.p99 : undefined,
      // Points only for a run that sends them: a load-only or traces-only run has no "OTLP acked 0/0" to show.
      ...(ledger !== undefined ? { pointsSent: ledger.totals.pointsSent, pointsAcknowledged: ledger.totals.pointsAcknowledged } : {}),
      ...(spanLedger !== undefined ? { spansSent: spanLedger.totals.spansSent, spansAcknowledged: spanLedger.totals.spansAcknowledged } : {}),
    });
    if (out.isTTY) out.write(`\r\x1b[2K${text}`);
    else if (line.endMs - lastPlainMs >= PLAIN_PROGRESS_EVERY_MS) {
      lastPlainMs = line.endMs;
      out.write(`${text}\n`);
    }
  };
}
