/**
 * Strict parsing of Prometheus HTTP API replies into typed results. Every reply is
 * checked against the documented envelope (`status`, `data`, `errorType`, `error`,
 * `warnings`, `infos`) and result formats; anything else is a
 * `TALLY_COLLECTOR_BAD_REPLY` naming the JSON pointer and what was expected there.
 *
 * Validation is in place: the parsed arrays are checked and returned as they are, so a
 * 60,000-sample matrix costs no second copy.
 *
 * @see https://prometheus.io/docs/prometheus/latest/querying/api/#format-overview
 * @see https://prometheus.io/docs/prometheus/latest/querying/api/#expression-query-result-formats
 */
import { CollectorError } from '../../core/errors.ts';

/** A sample as the API sends it: `[<unix seconds, float>, "<value as text>"]`. */
export type ApiSample = [number, string];

/** One element of an instant vector. */
export interface VectorElement {
  metric: Record<string, string>;
  /** Float sample; absent when the element is a native histogram. */
  value?: ApiSample;
  /** Native histogram sample `[seconds, {count, sum, buckets}]`, shape not checked further. */
  histogram?: [number, unknown];
}

/** One series of a range vector. */
export interface MatrixSeries {
  metric: Record<string, string>;
  /** Float samples in timestamp order; `[]` when the series has only histograms. */
  values: ApiSample[];
  histograms?: [number, unknown][];
}

/** The `data` of a query or query_range reply. */
export type QueryData =
  | { resultType: 'vector'; result: VectorElement[] }
  | { resultType: 'matrix'; result: MatrixSeries[] }
  | { resultType: 'scalar'; result: ApiSample }
  | { resultType: 'string'; result: ApiSample };

/** A successful reply: its data and the non-fatal annotations that came with it. */
export interface ApiResult<T> {
  data: T;
  /** `warnings`: e.g. a partial response from a federated backend; `[]` when none. */
  warnings: string[];
  /** `infos` (Prometheus 3): info-level annotations; `[]` when none. */
  infos: string[];
}

/** `/api/v1/status/tsdb` (Prometheus ≥ 2.14): head block statistics and top-10 cardinality lists. */
export interface TsdbStatus {
  headStats?: { numSeries: number; numLabelPairs?: number; chunkCount: number; minTime: number; maxTime: number };
  seriesCountByMetricName: { name: string; value: number }[];
  labelValueCountByLabelName: { name: string; value: number }[];
  memoryInBytesByLabelName: { name: string; value: number }[];
  seriesCountByLabelValuePair: { name: string; value: number }[];
}

/** `/api/v1/status/buildinfo`. */
export interface BuildInfo {
  version: string;
  revision: string;
  branch: string;
  buildUser: string;
  buildDate: string;
  goVersion: string;
}

/** An error reply (`status: "error"`): the API's own classification, kept as data for the caller. */
export interface ApiErrorReply {
  errorType: string;
  error: string;
}

function bad(pointer: string, expected: string, got: unknown): never {
  const kind = got === null ? 'null' : Array.isArray(got) ? 'array' : typeof got;
  throw new CollectorError(`Prometheus API reply: at ${pointer === '' ? '(root)' : pointer} expected ${expected}, got ${kind}`, {
    code: 'TALLY_COLLECTOR_BAD_REPLY',
    details: { pointer, expected },
  });
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function stringArray(v: unknown, pointer: string): string[] {
  if (v === undefined) return [];
  if (!Array.isArray(v)) bad(pointer, 'an array of strings', v);
  for (let i = 0; i < v.length; i++) if (typeof v[i] !== 'string') bad(`${pointer}/${i}`, 'a string', v[i]);
  return v as string[];
}

function labelSet(v: unknown, pointer: string): Record<string, string> {
  if (!isObject(v)) bad(pointer, 'a label set object', v);
  for (const key in v) if (typeof v[key] !== 'string') bad(`${pointer}/${escapePointer(key)}`, 'a string label value', v[key]);
  return v as Record<string, string>;
}

/** RFC 6901 escaping of one reference token. */
function escapePointer(token: string): string {
  return token.replaceAll('~', '~0').replaceAll('/', '~1');
}

function sample(v: unknown, pointer: string): ApiSample {
  if (!Array.isArray(v) || v.length !== 2) bad(pointer, 'a [seconds, "value"] pair', v);
  if (typeof v[0] !== 'number' || !Number.isFinite(v[0])) bad(`${pointer}/0`, 'a finite number of seconds', v[0]);
  if (typeof v[1] !== 'string') bad(`${pointer}/1`, 'a string value', v[1]);
  return v as ApiSample;
}

function histogramSample(v: unknown, pointer: string): [number, unknown] {
  if (!Array.isArray(v) || v.length !== 2) bad(pointer, 'a [seconds, histogram] pair', v);
  if (typeof v[0] !== 'number') bad(`${pointer}/0`, 'a number of seconds', v[0]);
  if (!isObject(v[1])) bad(`${pointer}/1`, 'a histogram object', v[1]);
  return v as [number, unknown];
}

/**
 * Check the envelope and return `data` with the annotations.
 * @param body the parsed JSON body.
 * @returns `{ ok: true, result }` for `status: "success"`, `{ ok: false, reply }` for `status: "error"`.
 * @throws CollectorError `TALLY_COLLECTOR_BAD_REPLY` (details `{ pointer, expected }`) for any other shape.
 */
export function parseEnvelope(body: unknown): { ok: true; result: ApiResult<unknown> } | { ok: false; reply: ApiErrorReply } {
  if (!isObject(body)) bad('', 'a JSON object envelope', body);
  const warnings = stringArray(body.warnings, '/warnings');
  const infos = stringArray(body.infos, '/infos');
  if (body.status === 'error') {
    if (typeof body.errorType !== 'string') bad('/errorType', 'a string (status is "error")', body.errorType);
    if (typeof body.error !== 'string') bad('/error', 'a string (status is "error")', body.error);
    return { ok: false, reply: { errorType: body.errorType, error: body.error } };
  }
  if (body.status !== 'success') bad('/status', '"success" or "error"', body.status);
  if (!('data' in body)) bad('/data', 'a data member (status is "success")', undefined);
  return { ok: true, result: { data: body.data, warnings, infos } };
}

/**
 * Check a query/query_range `data` member.
 * @throws CollectorError `TALLY_COLLECTOR_BAD_REPLY` naming the pointer (under `/data`).
 */
export function parseQueryData(data: unknown): QueryData {
  if (!isObject(data)) bad('/data', 'an object with resultType and result', data);
  const { resultType, result } = data;
  switch (resultType) {
    case 'vector': {
      if (!Array.isArray(result)) bad('/data/result', 'an array (resultType vector)', result);
      for (let i = 0; i < result.length; i++) {
        const e = result[i];
        const p = `/data/result/${i}`;
        if (!isObject(e)) bad(p, 'a vector element object', e);
        labelSet(e.metric, `${p}/metric`);
        if (e.value !== undefined) sample(e.value, `${p}/value`);
        else if (e.histogram !== undefined) histogramSample(e.histogram, `${p}/histogram`);
        else bad(`${p}/value`, 'a value or a histogram', undefined);
      }
      return { resultType, result: result as VectorElement[] };
    }
    case 'matrix': {
      if (!Array.isArray(result)) bad('/data/result', 'an array (resultType matrix)', result);
      for (let i = 0; i < result.length; i++) {
        const s = result[i];
        const p = `/data/result/${i}`;
        if (!isObject(s)) bad(p, 'a range-vector series object', s);
        labelSet(s.metric, `${p}/metric`);
        if (s.values === undefined && s.histograms === undefined) bad(`${p}/values`, 'values or histograms', undefined);
        if (s.values === undefined) s.values = [];
        else if (!Array.isArray(s.values)) bad(`${p}/values`, 'an array of samples', s.values);
        const values = s.values as unknown[];
        for (let j = 0; j < values.length; j++) sample(values[j], `${p}/values/${j}`);
        if (s.histograms !== undefined) {
          if (!Array.isArray(s.histograms)) bad(`${p}/histograms`, 'an array of histogram samples', s.histograms);
          for (let j = 0; j < s.histograms.length; j++) histogramSample(s.histograms[j], `${p}/histograms/${j}`);
        }
      }
      return { resultType, result: result as MatrixSeries[] };
    }
    case 'scalar':
    case 'string':
      return { resultType, result: sample(result, '/data/result') };
    default:
      return bad('/data/resultType', '"vector", "matrix", "scalar" or "string"', resultType);
  }
}

/**
 * Check a `/api/v1/series` `data` member: an array of label sets (with `__name__`).
 * @throws CollectorError `TALLY_COLLECTOR_BAD_REPLY`.
 */
export function parseSeriesData(data: unknown): Record<string, string>[] {
  if (!Array.isArray(data)) bad('/data', 'an array of label sets', data);
  for (let i = 0; i < data.length; i++) labelSet(data[i], `/data/${i}`);
  return data as Record<string, string>[];
}

/** One exemplar of a series: its labels (`trace_id`, `span_id`), value and time (s). */
export interface ApiExemplar {
  labels: Record<string, string>;
  value: number;
  timestampS: number;
}

/** The exemplars of one series. */
export interface ExemplarSeries {
  seriesLabels: Record<string, string>;
  exemplars: ApiExemplar[];
}

/**
 * Check a `/api/v1/query_exemplars` `data` member: `[{ seriesLabels, exemplars: [{ labels,
 * value (string), timestamp (s) }] }]`.
 * @throws CollectorError `TALLY_COLLECTOR_BAD_REPLY` naming the pointer of a malformed part.
 */
export function parseExemplarData(data: unknown): ExemplarSeries[] {
  if (!Array.isArray(data)) bad('/data', 'an array of exemplar series', data);
  return data.map((s: unknown, i: number) => {
    const p = `/data/${i}`;
    if (!isObject(s)) bad(p, 'an object', s);
    labelSet(s.seriesLabels, `${p}/seriesLabels`);
    if (!Array.isArray(s.exemplars)) bad(`${p}/exemplars`, 'an array', s.exemplars);
    const exemplars = s.exemplars.map((e: unknown, j: number) => {
      const q = `${p}/exemplars/${j}`;
      if (!isObject(e)) bad(q, 'an object', e);
      labelSet(e.labels, `${q}/labels`);
      if (typeof e.value !== 'string') bad(`${q}/value`, 'a number as a string', e.value);
      if (typeof e.timestamp !== 'number') bad(`${q}/timestamp`, 'a number (s)', e.timestamp);
      return { labels: e.labels as Record<string, string>, value: parseSampleValue(e.value), timestampS: e.timestamp };
    });
    return { seriesLabels: s.seriesLabels as Record<string, string>, exemplars };
  });
}

function nameValueList(v: unknown, pointer: string): { name: string; value: number }[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) bad(pointer, 'an array of {name, value}', v);
  for (let i = 0; i < v.length; i++) {
    const e = v[i];
    if (!isObject(e)) bad(`${pointer}/${i}`, 'a {name, value} object', e);
    if (typeof e.name !== 'string') bad(`${pointer}/${i}/name`, 'a string', e.name);
    if (typeof e.value !== 'number') bad(`${pointer}/${i}/value`, 'a number', e.value);
  }
  return v as { name: string; value: number }[];
}

/**
 * Check a `/api/v1/status/tsdb` `data` member.
 * @throws CollectorError `TALLY_COLLECTOR_BAD_REPLY`.
 */
export function parseTsdbStatus(data: unknown): TsdbStatus {
  if (!isObject(data)) bad('/data', 'a TSDB status object', data);
  let headStats: TsdbStatus['headStats'];
  if (data.headStats !== undefined) {
    const h = data.headStats;
    if (!isObject(h)) bad('/data/headStats', 'an object', h);
    for (const key of ['numSeries', 'chunkCount', 'minTime', 'maxTime']) {
      if (typeof h[key] !== 'number') bad(`/data/headStats/${key}`, 'a number', h[key]);
    }
    headStats = h as unknown as TsdbStatus['headStats'];
  }
  return {
    headStats,
    seriesCountByMetricName: nameValueList(data.seriesCountByMetricName, '/data/seriesCountByMetricName'),
    labelValueCountByLabelName: nameValueList(data.labelValueCountByLabelName, '/data/labelValueCountByLabelName'),
    memoryInBytesByLabelName: nameValueList(data.memoryInBytesByLabelName, '/data/memoryInBytesByLabelName'),
    seriesCountByLabelValuePair: nameValueList(data.seriesCountByLabelValuePair, '/data/seriesCountByLabelValuePair'),
  };
}

/**
 * Check a `/api/v1/status/buildinfo` `data` member.
 * @throws CollectorError `TALLY_COLLECTOR_BAD_REPLY`.
 */
export function parseBuildInfo(data: unknown): BuildInfo {
  if (!isObject(data)) bad('/data', 'a build information object', data);
  for (const key of ['version', 'revision', 'branch', 'buildUser', 'buildDate', 'goVersion']) {
    if (typeof data[key] !== 'string') bad(`/data/${key}`, 'a string', data[key]);
  }
  return data as unknown as BuildInfo;
}

/**
 * A sample value as the API writes it (Go `strconv.FormatFloat(v, 'f', -1, 64)`, with
 * `NaN`, `+Inf`, `-Inf`) back to a number. `Number()` alone reads `+Inf` as NaN.
 * @returns the float64; NaN for text that is not a number.
 */
export function parseSampleValue(text: string): number {
  if (text === '+Inf' || text === 'Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  return text === '' ? NaN : Number(text);
}
