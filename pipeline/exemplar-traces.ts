/**
 * The exemplar → trace join against a trace backend: the generated traces that the
 * exemplars read back from Prometheus name are looked up by id in the run's trace backend
 * (`backends.jaeger`, else `backends.tempo`), with their root span, which is the span an
 * exemplar names. An exemplar is only worth something if its trace can be opened.
 */
import { createJaegerClient } from '../readback/jaeger/client.ts';
import { jaegerTraceBackend } from '../readback/jaeger/backend.ts';
import { createTempoClient } from '../readback/tempo/client.ts';
import { tempoTraceBackend } from '../readback/tempo/backend.ts';
import type { TraceBackend, TraceBackendName } from '../readback/traces/backend.ts';
import { hash32 } from '../core/rng.ts';
import { rootSpanIdsOf, shardOfSeq, type TraceModel } from '../core/trace-model.ts';
import type { Scenario } from '../scenarios/types.ts';

/** Most named traces looked up; beyond it a seeded sample is. */
export const EXEMPLAR_TRACES_CHECKED = 100;

/** What the trace backend had of the traces exemplars name. */
export interface ExemplarTraceJoin {
  backend: TraceBackendName;
  url: string;
  /** Named traces looked up (all of them, or a seeded sample of {@link EXEMPLAR_TRACES_CHECKED}). */
  checked: number;
  /** Found, with the root span the exemplars name. */
  found: number;
  /** Found without that root span. */
  withoutRootSpan: number;
  /** Not found (or not readable). */
  missing: number;
}

/** Up to `limit` of `values`, picked by a seeded hash (all of them when fewer), in order. */
function seededPick(values: readonly number[], limit: number, seed: number): number[] {
  if (values.length <= limit) return [...values];
  return [...values].sort((a, b) => hash32(seed, a) - hash32(seed, b) || a - b).slice(0, limit).sort((a, b) => a - b);
}

/**
 * Look the named traces up in the scenario's trace backend.
 * @param sequences generated trace sequences the matching exemplars name.
 * @returns undefined when the scenario names no trace backend.
 * @throws CollectorError when the backend cannot be reached at all.
 */
export async function joinExemplarTraces(scenario: Scenario, model: TraceModel, sequences: readonly number[]): Promise<ExemplarTraceJoin | undefined> {
  const { jaeger, tempo } = scenario.backends ?? {};
  const url = jaeger?.url ?? tempo?.url;
  if (url === undefined) return undefined;
  const jaegerClient = jaeger !== undefined ? createJaegerClient({ baseUrl: url, backendName: 'Jaeger' }) : undefined;
  const tempoClient = jaeger === undefined ? createTempoClient({ baseUrl: url }) : undefined;
  try {
    const backend: TraceBackend = jaegerClient !== undefined ? jaegerTraceBackend(jaegerClient) : tempoTraceBackend(tempoClient!);
    const out: ExemplarTraceJoin = { backend: backend.name, url, checked: 0, found: 0, withoutRootSpan: 0, missing: 0 };
    for (const seq of seededPick(sequences, EXEMPLAR_TRACES_CHECKED, model.seed)) {
      const ids = rootSpanIdsOf(model.runIdHex, shardOfSeq(model, seq), seq);
      const result = await backend.traceById(ids.traceId);
      out.checked++;
      if (!result.ok || result.value.spans.length === 0) out.missing++;
      else if (result.value.spans.some((s) => s.spanId === ids.spanId)) out.found++;
      else out.withoutRootSpan++;
    }
    return out;
  } finally {
    await jaegerClient?.close();
    await tempoClient?.close();
  }
}
