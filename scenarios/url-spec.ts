/**
 * The URLs of a scenario (`load.target`, `telemetry.endpoint`, the `backends` URLs) must be
 * ones tally can connect to, and must not carry credentials:
 *
 * - parsed as WHATWG URLs: a host, a port in 1..65535 (`http://:80/`, port 0 or 99999
 *   used to validate and then fail the run as "a bug");
 * - no userinfo (`user:password@`) and no credential-like query parameter (`?token=`,
 *   `?api_key=`, …): tally would not send userinfo, and would write the URL verbatim to
 *   plan.json. Each problem points to where credentials belong instead. Messages never
 *   quote the URL or the parameter's value.
 *
 * Pure.
 * @see https://url.spec.whatwg.org/#concept-url-parser
 * @see https://www.rfc-editor.org/rfc/rfc3986#section-3.2.1 (userinfo is deprecated)
 */
import type { InputProblem } from '../core/errors.ts';
import type { TallyScenario } from './scenario-document.ts';

/** Query parameter names that carry credentials (compared lowercased, without `-` and `_`). */
const SECRET_PARAMETER = /token|secret|passw|pwd|apikey|accesskey|privatekey|auth|credential|signature|^sig$|session|jwt|bearer|^key$/;

/** Where credentials for each URL belong. */
const CREDENTIALS_GO: Record<string, string> = {
  '/load/target': 'the load sends no credentials: remove them',
  '/telemetry/endpoint': 'send them as a header in /telemetry/headers (e.g. Authorization), which is never written to a file',
  '/backends/prometheus/url': 'use /backends/prometheus/auth (bearerTokenFile, basic with passwordFile or passwordEnv, or headers)',
  '/backends/collector/metricsUrl': 'tally sends no credentials to the collector: remove them',
  '/backends/tempo/url': 'tally sends no credentials to Tempo: remove them',
  '/backends/jaeger/url': 'tally sends no credentials to Jaeger: remove them',
  '/backends/jaeger/metricsUrl': 'tally sends no credentials to Jaeger: remove them',
};

/**
 * Problems of one URL.
 * @param pointer the field's JSON pointer (one of {@link CREDENTIALS_GO}'s keys).
 */
export function urlProblems(text: string, pointer: string): InputProblem[] {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return [{ pointer, message: 'is not a URL tally can connect to: it needs a host, and a port from 1 to 65535 when it gives one' }];
  }
  const problems: InputProblem[] = [];
  if (url.hostname === '') problems.push({ pointer, message: 'names no host' });
  if (url.port === '0') problems.push({ pointer, message: 'has port 0, which nothing listens on: give the port to connect to' });
  if (url.username !== '' || url.password !== '') {
    problems.push({ pointer, message: `carries credentials (user:password@), which tally would not send and would write to plan.json; ${goesTo(pointer, 'remove them')}` });
  }
  for (const name of new Set(url.searchParams.keys())) {
    if (SECRET_PARAMETER.test(name.toLowerCase().replace(/[-_]/g, ''))) {
      problems.push({ pointer, message: `has a query parameter "${name}" that looks like a credential, which would be written to plan.json; ${goesTo(pointer, 'remove it')}` });
    }
  }
  return problems;
}

/** Where the credentials of the URL at `pointer` belong (an output's go in its own headers). */
function goesTo(pointer: string, otherwise: string): string {
  if (/^\/outputs\/\d+\/url$/.test(pointer)) return `send them as a header in ${pointer.replace(/url$/, 'headers')}, which is never written to a file`;
  return CREDENTIALS_GO[pointer] ?? otherwise;
}

/** Problems of every URL of a (schema-valid) scenario document. */
export function scenarioUrlProblems(doc: TallyScenario): InputProblem[] {
  const urls: [string | undefined, string][] = [
    [doc.load?.target, '/load/target'],
    [doc.telemetry?.endpoint, '/telemetry/endpoint'],
    [doc.backends?.prometheus?.url, '/backends/prometheus/url'],
    [doc.backends?.collector?.metricsUrl, '/backends/collector/metricsUrl'],
    [doc.backends?.tempo?.url, '/backends/tempo/url'],
    [doc.backends?.jaeger?.url, '/backends/jaeger/url'],
    [doc.backends?.jaeger?.metricsUrl, '/backends/jaeger/metricsUrl'],
    ...(doc.outputs ?? []).map((o, i): [string | undefined, string] => [o.url, `/outputs/${i}/url`]),
  ];
  return urls.flatMap(([text, pointer]) => (text === undefined ? [] : urlProblems(text, pointer)));
}
