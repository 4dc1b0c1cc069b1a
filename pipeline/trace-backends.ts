/**
 * The trace backends of a run (`backends.tempo`, `backends.jaeger`): each verifies the same
 * seeded sample of the run's traces. Shared by `tally run` and `tally reconcile`.
 */
import type { Plan } from '../scenarios/plan.ts';
import type { Scenario } from '../scenarios/types.ts';
import { verifyRunTracesJaeger } from './jaeger.ts';
import { verifyRunTraces } from './tempo.ts';
import type { TraceBackendReadback } from './trace-sample.ts';

/** What the trace backends said. */
export interface TraceBackendsReadback {
  tempo?: TraceBackendReadback;
  jaeger?: TraceBackendReadback;
}

/** Whether the scenario names a trace backend for a run that sends traces. */
export function hasTraceBackend(scenario: Scenario, plan: Plan): boolean {
  return plan.traces !== undefined && (scenario.backends?.tempo !== undefined || scenario.backends?.jaeger !== undefined);
}

/**
 * Verify the run's trace sample in every trace backend the scenario names.
 * @param window the run's span window, unix epoch ms.
 * @throws CollectorError `TALLY_COLLECTOR_FAILED` when a backend cannot be reached at all.
 */
export async function verifyTraceBackends(scenario: Scenario, plan: Plan, window: { startMs: number; endMs: number }): Promise<TraceBackendsReadback> {
  const out: TraceBackendsReadback = {};
  const traces = plan.traces;
  if (traces === undefined) return out;
  const request = { model: traces.model, traceCount: traces.traceCount, window, maxWaitMs: scenario.reconcile.maxWaitMs ?? 30_000 };
  const { tempo, jaeger } = scenario.backends ?? {};
  if (tempo !== undefined) out.tempo = await verifyRunTraces(tempo.url, { ...request, sampleSize: tempo.sampleSize });
  if (jaeger !== undefined) out.jaeger = await verifyRunTracesJaeger(jaeger.url, { ...request, sampleSize: jaeger.sampleSize });
  return out;
}
