/**
 * Readiness probe: from inside the client namespace, GET each backend directly and the
 * Service VIP until each answers 200 with the expected `x-tally-backend`, with bounded
 * retries. One short-lived node process runs every probe, so the path tested is the real
 * one (client → node routing → bridge → backend, and the VIP through the DNAT).
 */
import { CollectorError } from '../core/errors.ts';
import { runTool } from './netns.ts';

/** One probe target: a URL and the backend name it must answer with (`*`: any). */
export interface ProbeTarget {
  url: string;
  expectBackend: string;
}

/** Outcome of one probe target. */
export interface ProbeResult {
  url: string;
  ok: boolean;
  /** GETs made, ≤ 200. */
  attempts: number;
  status?: number;
  backend?: string | null;
  /** errno code or message of the last failed attempt. */
  error?: string;
}

/**
 * The probe program (CommonJS, run with `node -e`). Inputs come as argv, never spliced
 * into the text: `deadlineMs url1 expect1 url2 expect2 …`. Prints a JSON array of
 * {@link ProbeResult}. Each GET has a 500 ms timeout; retries every 50 ms, at most 200
 * attempts, until the deadline.
 */
const PROBE_PROGRAM = String.raw`
const http = require('node:http');
const [deadlineArg, ...pairs] = process.argv.slice(1);
const deadline = Date.now() + Number(deadlineArg);
function get(url) {
  return new Promise((resolve) => {
    const req = http.get(url, { agent: false, timeout: 500 }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode, backend: res.headers['x-tally-backend'] ?? null }));
      res.on('error', (e) => resolve({ error: e.code ?? e.message }));
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })));
    req.on('error', (e) => resolve({ error: e.code ?? e.message }));
  });
}
async function probe(url, expect) {
  for (let attempts = 1; ; attempts++) {
    const r = await get(url);
    if (r.status === 200 && (expect === '*' || r.backend === expect)) return { url, ok: true, attempts, ...r };
    if (Date.now() >= deadline || attempts >= 200) return { url, ok: false, attempts, ...r };
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
const jobs = [];
for (let i = 0; i + 1 < pairs.length; i += 2) jobs.push(probe(pairs[i], pairs[i + 1]));
Promise.all(jobs).then((results) => process.stdout.write(JSON.stringify(results)));
`;

/**
 * Probe targets from inside a namespace until each answers or the deadline passes.
 * @param namespace where to probe from (the client namespace).
 * @param targets URLs and expected backend names.
 * @param nodePath the node binary to run the probe with.
 * @param deadlineMs how long to keep retrying, ms.
 * @returns one result per target, in order.
 * @throws CollectorError `TALLY_COLLECTOR_FAILED` when the probe cannot run (the process
 *   gets `deadlineMs` + 5 s); `TALLY_COLLECTOR_BAD_REPLY` when it prints no JSON array.
 * @see ip-netns(8) `ip netns exec`
 */
export async function probeFromNamespace(
  namespace: string,
  targets: readonly ProbeTarget[],
  nodePath: string,
  deadlineMs: number,
): Promise<ProbeResult[]> {
  const args = targets.flatMap((t) => [t.url, t.expectBackend]);
  const { stdout } = await runTool(['ip', 'netns', 'exec', namespace, nodePath, '-e', PROBE_PROGRAM, String(deadlineMs), ...args], {
    timeoutMs: deadlineMs + 5000,
    what: `probe backends from ${namespace}`,
  });
  let results: unknown;
  try {
    results = JSON.parse(stdout);
  } catch (cause) {
    throw new CollectorError(`probe from ${namespace} printed no JSON`, { code: 'TALLY_COLLECTOR_BAD_REPLY', details: { stdout }, cause });
  }
  if (!Array.isArray(results) || results.length !== targets.length) {
    throw new CollectorError(`probe from ${namespace} returned ${JSON.stringify(results)}`, { code: 'TALLY_COLLECTOR_BAD_REPLY', details: { stdout } });
  }
  return results as ProbeResult[];
}
