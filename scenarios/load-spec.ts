/**
 * The `load` section of a scenario: cross-field rules the schema cannot say, and
 * normalisation (defaults applied, durations in ms, rates per second). Pure.
 */
import { isIP } from 'node:net';
import type { InputProblem } from '../core/errors.ts';
import { parseDurationMs } from '../core/units.ts';
import type { ExecutorSpec, Stage } from '../core/schedule.ts';
import type { Load } from './scenario-document.ts';
import type { LoadSpec } from './types.ts';

/** Fields each executor uses; any other executor field is an error (it would be silently ignored). */
const EXECUTOR_FIELDS: Record<ExecutorSpec['executor'], readonly string[]> = {
  'constant-arrival-rate': ['rate', 'timeUnit', 'maxInFlight', 'lateStartThreshold'],
  'ramping-arrival-rate': ['startRate', 'stages', 'timeUnit', 'maxInFlight', 'lateStartThreshold'],
  burst: ['burst', 'maxInFlight', 'lateStartThreshold'],
  'constant-vus': ['vus'],
  'ramping-vus': ['startVUs', 'stages'],
};
const ALL_EXECUTOR_FIELDS = ['rate', 'startRate', 'timeUnit', 'stages', 'burst', 'vus', 'startVUs', 'maxInFlight', 'lateStartThreshold'];

/** The most arrivals per second any point of the schedule asks for. */
function peakRatePerSecond(l: Load, timeUnitMs: number): number {
  const perSecond = (n: number): number => (n * 1000) / timeUnitMs;
  switch (l.executor) {
    case 'constant-arrival-rate':
      return perSecond(l.rate ?? 0);
    case 'ramping-arrival-rate':
      return Math.max(perSecond(l.startRate ?? 0), ...(l.stages ?? []).map((s) => perSecond(s.target)));
    default:
      return 0;
  }
}

/**
 * Cross-field rules of `/load`.
 * @param l the schema-valid `load` object.
 * @param durationMs the scenario's `/duration`.
 * @param embeddedTarget whether the embedded target will serve the load.
 */
export function loadProblems(l: Load, durationMs: number, embeddedTarget: boolean): { errors: InputProblem[]; warnings: InputProblem[] } {
  const errors: InputProblem[] = [];
  const warnings: InputProblem[] = [];
  const used = EXECUTOR_FIELDS[l.executor];
  const fields = l as Readonly<Record<string, unknown>>;
  for (const field of ALL_EXECUTOR_FIELDS) {
    if (fields[field] !== undefined && !used.includes(field)) {
      errors.push({ pointer: `/load/${field}`, message: `is not used by executor "${l.executor}" (it uses ${used.map((f) => `\`${f}\``).join(', ')})` });
    }
  }
  const timeUnitMs = parseDurationMs(l.timeUnit ?? '1s', '/load/timeUnit');
  const peak = peakRatePerSecond(l, timeUnitMs);
  if (peak > 1_000_000) errors.push({ pointer: l.executor === 'constant-arrival-rate' ? '/load/rate' : '/load/stages', message: `asks for ${peak} iterations per second; at most 1,000,000` });
  if (Array.isArray(l.stages)) {
    let totalMs = 0;
    l.stages.forEach((s, i) => {
      const ms = parseDurationMs(s.duration, `/load/stages/${i}/duration`);
      if (ms <= 0) errors.push({ pointer: `/load/stages/${i}/duration`, message: 'must be longer than 0' });
      totalMs += ms;
      if (l.executor === 'ramping-vus' && !Number.isInteger(s.target)) errors.push({ pointer: `/load/stages/${i}/target`, message: 'must be a whole number of VUs' });
    });
    if (totalMs > durationMs) errors.push({ pointer: '/load/stages', message: `last ${totalMs} ms in all, longer than /duration (${durationMs} ms)` });
  }
  if (l.executor === 'burst' && l.burst !== undefined) {
    const windowMs = parseDurationMs(l.burst.window, '/load/burst/window');
    const everyMs = parseDurationMs(l.burst.every, '/load/burst/every');
    if (everyMs <= 0) errors.push({ pointer: '/load/burst/every', message: 'must be longer than 0' });
    if (windowMs > everyMs) errors.push({ pointer: '/load/burst/window', message: `(${windowMs} ms) must not exceed /load/burst/every (${everyMs} ms): bursts would overlap` });
  }
  const workers = l.workers;
  if (workers !== undefined && (l.maxInFlight ?? 512) < workers) {
    errors.push({ pointer: '/load/maxInFlight', message: `must be at least /load/workers (${workers}): each worker needs one slot` });
  }
  const protocol = l.protocol ?? 'http1';
  if (l.target !== undefined) {
    const scheme = String(l.target).split(':')[0];
    if (protocol === 'http1' && scheme !== 'http') errors.push({ pointer: '/load/target', message: 'must be an http:// URL for protocol http1' });
    if (protocol === 'tcp-crr' && scheme !== 'tcp') errors.push({ pointer: '/load/target', message: 'must be a tcp://host:port URL for protocol tcp-crr' });
    if (scheme === 'tcp' && !/^tcp:\/\/[^/\s]+:\d+\/?$/.test(l.target)) errors.push({ pointer: '/load/target', message: 'must be tcp://host:port (with a port, no path)' });
  }
  if (protocol !== 'tcp-crr' && l.tcpCrr !== undefined) errors.push({ pointer: '/load/tcpCrr', message: 'is only used with protocol tcp-crr' });
  if (protocol === 'tcp-crr' && l.request !== undefined) errors.push({ pointer: '/load/request', message: 'is only used with protocol http1' });
  (l.localAddresses ?? []).forEach((a, i) => {
    if (isIP(a) === 0) errors.push({ pointer: `/load/localAddresses/${i}`, message: `"${a}" is not an IPv4 or IPv6 address` });
  });
  if (l.connection?.reuse === 'keep-alive' && protocol === 'tcp-crr') {
    errors.push({ pointer: '/load/connection/reuse', message: 'keep-alive is an HTTP mode; tcp-crr opens a connection per exchange (use never or per-iteration)' });
  }
  if (embeddedTarget && peak > 50_000) {
    warnings.push({ pointer: '/load', message: 'the embedded target shares this machine; above ~50k/s it, not the datapath, is the bottleneck' });
  }
  return { errors, warnings };
}

function stagesOf(l: Load, scale: number): Stage[] {
  return (l.stages ?? []).map((s, i) => ({ durationMs: parseDurationMs(s.duration, `/load/stages/${i}/duration`), target: s.target * scale }));
}

/** The executor with rates per second and times in ms. */
function executorOf(l: Load): ExecutorSpec {
  const timeUnitMs = parseDurationMs(l.timeUnit ?? '1s', '/load/timeUnit');
  const perSecond = 1000 / timeUnitMs;
  switch (l.executor) {
    case 'constant-arrival-rate':
      return { executor: 'constant-arrival-rate', ratePerSecond: l.rate! * perSecond };
    case 'ramping-arrival-rate':
      return { executor: 'ramping-arrival-rate', startRatePerSecond: (l.startRate ?? 0) * perSecond, stages: stagesOf(l, perSecond) };
    case 'burst':
      return {
        executor: 'burst',
        connections: l.burst!.connections,
        windowMs: parseDurationMs(l.burst!.window, '/load/burst/window'),
        everyMs: parseDurationMs(l.burst!.every, '/load/burst/every'),
      };
    case 'constant-vus':
      return { executor: 'constant-vus', vus: l.vus! };
    case 'ramping-vus':
      return { executor: 'ramping-vus', startVUs: l.startVUs ?? 1, stages: stagesOf(l, 1) };
  }
}

/** Normalise a schema- and rule-valid `load` object. */
export function normaliseLoad(l: Load): LoadSpec {
  const d = (text: string | undefined, fallback: string, pointer: string): number => parseDurationMs(text ?? fallback, pointer);
  const load: LoadSpec = {
    executor: executorOf(l),
    maxInFlight: l.maxInFlight ?? 512,
    lateStartThresholdMs: d(l.lateStartThreshold, '10ms', '/load/lateStartThreshold'),
    requestsPerIteration: l.requestsPerIteration ?? 1,
    protocol: l.protocol ?? 'http1',
    tcpCrr: { requestBytes: l.tcpCrr?.requestBytes ?? 64, responseBytes: l.tcpCrr?.responseBytes ?? 64 },
    dns: { resolve: l.dns?.resolve ?? 'cached', ttlMs: d(l.dns?.ttl, '30s', '/load/dns/ttl') },
    connection: {
      reuse: l.connection?.reuse ?? 'never',
      close: l.connection?.close ?? 'fin',
      connectTimeoutMs: d(l.connection?.connectTimeout, '2s', '/load/connection/connectTimeout'),
      requestTimeoutMs: d(l.connection?.requestTimeout, '5s', '/load/connection/requestTimeout'),
      maxConnections: l.connection?.maxConnections ?? 64,
    },
    request: { method: l.request?.method ?? 'GET' },
  };
  if (l.target !== undefined) load.target = l.target;
  if (l.workers !== undefined) load.workers = l.workers;
  if (l.localAddresses !== undefined) load.localAddresses = [...l.localAddresses];
  if (l.request?.path !== undefined) load.request.path = l.request.path;
  return load;
}
