/**
 * What a Tempo server can do: build information, readiness, and which query endpoints
 * exist, decided by probing each one rather than by version number.
 *
 * Why probe: builds without release ldflags (such as the recorded 2.0.1) report an empty
 * version, forks and gateways rename versions, and features arrive behind flags. A route
 * that the server lacks answers `404 page not found` (Go's router), which is unambiguous.
 */
import { CollectorError } from '../../core/errors.ts';

/** Build information as the server reports it. Empty strings become `null`. */
export interface BuildInfo {
  version: string | null;
  revision: string | null;
  branch: string | null;
  goVersion: string | null;
  /** Which endpoint answered. */
  source: 'buildinfo' | 'status_version';
}

/** Whether an endpoint exists. `unknown` when the probe's answer proved neither. */
export type Presence = 'present' | 'absent' | 'unknown';

/** What one probe found. */
export interface EndpointProbe {
  presence: Presence;
  /** `GET /path?query` that was probed. */
  endpoint: string;
  /** HTTP status of the probe, or `null` when no answer came (the reason is in `note`). */
  status: number | null;
  /** Why, in a few words (e.g. `400 names TraceQL: parser present`). */
  note: string;
}

/** Endpoints the adapter probes. */
export type TempoEndpointName =
  | 'echo'
  | 'buildInfo'
  | 'statusVersion'
  | 'traceByIdV1'
  | 'traceByIdV2'
  | 'search'
  | 'traceql'
  | 'tagNamesV1'
  | 'tagValuesV1'
  | 'tagValuesV2'
  | 'metricsQueryRange';

/** Readiness from `/ready`. */
export interface Readiness {
  state: 'ready' | 'not_ready' | 'unknown';
  status: number | null;
  /** Body text (e.g. `Ingester not ready: … waiting for 15s after being ready`), at most 1 KiB. */
  bodyText: string;
}

/**
 * Query generation inferred from the probes:
 * `tags_only` (search without TraceQL, Tempo 1.x), `traceql` (TraceQL search, no TraceQL metrics),
 * `traceql_metrics` (TraceQL metrics range queries), `unknown` (search not proven).
 */
export type TempoGeneration = 'tags_only' | 'traceql' | 'traceql_metrics' | 'unknown';

/** Everything `detect()` learned. */
export interface TempoCapabilities {
  buildInfo: BuildInfo | null;
  readiness: Readiness;
  endpoints: Record<TempoEndpointName, EndpointProbe>;
  generation: TempoGeneration;
}

/**
 * Parse `/api/status/buildinfo` JSON (`version`, `revision`, `branch`, `buildDate`, `buildUser`, `goVersion`).
 * @throws CollectorError `TALLY_COLLECTOR_BAD_REPLY` when the body is not that object.
 * @see https://grafana.com/docs/tempo/latest/api_docs/#list-build-information
 */
export function parseBuildInfoJson(text: string, endpoint: string): BuildInfo {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    value = undefined;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new CollectorError(`Tempo ${endpoint}: expected a JSON object with version, revision, branch, goVersion`, {
      code: 'TALLY_COLLECTOR_BAD_REPLY',
      details: { endpoint, expected: '{"version":…,"revision":…,"branch":…,"goVersion":…}', problem: 'not a JSON object' },
    });
  }
  const v = value as Record<string, unknown>;
  return { version: nonEmpty(v.version), revision: nonEmpty(v.revision), branch: nonEmpty(v.branch), goVersion: nonEmpty(v.goVersion), source: 'buildinfo' };
}

/**
 * Parse `/status/version` text, Prometheus `version.Print` style:
 * `tempo, version 2.0.1 (branch: main, revision: abc)` then `  go version: go1.19.8` lines.
 * The recorded 2.0.1 build prints `version  (branch: , revision: )`: every field is then `null`.
 * @returns the fields found; absent ones are `null` (never throws: unknown text yields all `null`).
 * @see https://grafana.com/docs/tempo/latest/api_docs/#status
 */
export function parseStatusVersionText(text: string): BuildInfo {
  const head = /version\s+(\S*)\s*\(branch:\s*([^,]*),\s*revision:\s*([^)]*)\)/.exec(text);
  const go = /go version:\s*(\S+)/.exec(text);
  return {
    version: nonEmpty(head?.[1]),
    branch: nonEmpty(head?.[2]),
    revision: nonEmpty(head?.[3]),
    goVersion: nonEmpty(go?.[1]),
    source: 'status_version',
  };
}

/**
 * Infer the query generation from probe results (not from the version string).
 * @see https://grafana.com/docs/tempo/latest/api_docs/#traceql-metrics
 */
export function inferGeneration(endpoints: Record<TempoEndpointName, EndpointProbe>): TempoGeneration {
  if (endpoints.metricsQueryRange.presence === 'present' && endpoints.traceql.presence === 'present') return 'traceql_metrics';
  if (endpoints.traceql.presence === 'present') return 'traceql';
  if (endpoints.search.presence === 'present' && endpoints.traceql.presence === 'absent') return 'tags_only';
  return 'unknown';
}

/** The capabilities before any probe: everything `unknown`, so adapters try and learn. */
export function unknownCapabilities(): TempoCapabilities {
  const probe = (endpoint: string): EndpointProbe => ({ presence: 'unknown', endpoint, status: null, note: 'not probed' });
  return {
    buildInfo: null,
    readiness: { state: 'unknown', status: null, bodyText: '' },
    endpoints: {
      echo: probe('GET /api/echo'),
      buildInfo: probe('GET /api/status/buildinfo'),
      statusVersion: probe('GET /status/version'),
      traceByIdV1: probe('GET /api/traces/<id>'),
      traceByIdV2: probe('GET /api/v2/traces/<id>'),
      search: probe('GET /api/search'),
      traceql: probe('GET /api/search?q='),
      tagNamesV1: probe('GET /api/search/tags'),
      tagValuesV1: probe('GET /api/search/tag/<tag>/values'),
      tagValuesV2: probe('GET /api/v2/search/tag/<tag>/values'),
      metricsQueryRange: probe('GET /api/metrics/query_range'),
    },
    generation: 'unknown',
  };
}

function nonEmpty(value: unknown): string | null {
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : null;
}
