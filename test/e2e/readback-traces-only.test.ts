/**
 * Runs that send traces and no metrics, as a new user's first run against Tempo 2.0.1 went
 * (the defects of issue 11, item 3), against Tempo 2.0.1's recorded answers replayed over
 * real sockets:
 * - OTLP/JSON ingest: a stand-in answers each request as Tempo 2.0.1 did (recorded in
 *   test/fixtures/tempo-2.0.1/ingest): 400 `unknown field "flags" in v1.Span` (a
 *   google.rpc.Status) when any span carries `flags`, else 200 `{}`;
 * - the query API: the recorded replay (test/readback/tempo/replay-server.ts).
 * summary.traces.tracesSent counts the traces sent, summary.md says Tempo was read back,
 * a refusal keeps the receiver's reason, and `tally reconcile` re-verifies the trace sample
 * of a run directory that has no ledger.bin.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { access, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runScenario } from '../../pipeline/run.ts';
import { reconcileRun } from '../../pipeline/reconcile.ts';
import { runIdHexOf } from '../../core/trace-model.ts';
import { fixture, startReplayServer, type ReplayRequest } from '../readback/tempo/replay-server.ts';
import { captureStdout, scenarioFile } from './readback-helpers.ts';

/** Tempo 2.0.1's answer to a span with `flags` (recorded), and to the same JSON without it. */
const REFUSED_FLAGS = fixture('ingest/export-json-trace11-as-serialized.response.json');
const ACCEPTED = fixture('ingest/export-json-trace11-flags-removed.response.json');

interface IngestStandIn {
  url: string;
  requests: number;
  refused: number;
  close(): Promise<void>;
}

/** An OTLP/HTTP JSON trace receiver that decides as Tempo 2.0.1 did; `refuseAll` answers every request with the recorded 400. */
async function tempo201Ingest(refuseAll = false): Promise<IngestStandIn> {
  const state = { requests: 0, refused: 0 };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      state.requests++;
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { resourceSpans: { scopeSpans: { spans: Record<string, unknown>[] }[] }[] };
      const hasFlags = body.resourceSpans.some((r) => r.scopeSpans.some((s) => s.spans.some((span) => 'flags' in span)));
      const refuse = refuseAll || hasFlags;
      if (refuse) state.refused++;
      res.writeHead(refuse ? 400 : 200, { 'content-type': 'application/json' });
      res.end(refuse ? REFUSED_FLAGS : ACCEPTED);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    get requests() { return state.requests; },
    get refused() { return state.refused; },
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

/** The query API: the recorded replay, and the recorded 404 for every trace of the run (its traces went to the stand-in). */
async function tempo201Query() {
  const notFound = fixture('api/trace-not-found.txt');
  return startReplayServer({
    phases: ['A'],
    extraRoutes: (r: ReplayRequest) => (/^\/api\/traces\/[0-9a-f]{32}$/.test(r.pathname) ? { status: 404, contentType: 'text/plain; charset=utf-8', body: notFound } : undefined),
  });
}

/** The rows of one summary.md section, as label → value. */
function sectionRows(markdown: string, heading: RegExp): Map<string, string> {
  const sections = markdown.split('\n## ');
  const section = sections.find((s) => heading.test(s.split('\n')[0]));
  assert.ok(section, `a summary.md section ${heading}`);
  const rows = new Map<string, string>();
  for (const line of section.split('\n')) {
    const m = /^\| (.+?) \| (.+) \|$/.exec(line);
    if (m !== null && m[1] !== 'measure' && m[1] !== '---') rows.set(m[1], m[2]);
  }
  return rows;
}

test('a traces-only OTLP/JSON run: Tempo 2.0.1 takes every request, tracesSent counts the traces, summary.md says Tempo was read back, and tally reconcile re-verifies the sample without ledger.bin', async () => {
  const ingest = await tempo201Ingest();
  const query = await tempo201Query();
  try {
    const { dir, path } = await scenarioFile(`
name: traces-only-json
seed: 11
duration: 2s
telemetry:
  endpoint: ${ingest.url}
  protocol: http/json
  exportInterval: 1s
  traces: { ratePerSecond: 40, spansPerTrace: 3, batchDelay: 200ms }
backends:
  tempo: { url: ${query.url}, sample: 10 }
reconcile: { settle: 200ms, maxWait: 2s }
`);
    const outDir = join(dir, 'out');
    const { results } = await runScenario({ scenarioPath: path, outDir, stdout: captureStdout(), handleSignals: false });
    const t = results.summary.traces;
    assert.ok(ingest.requests > 0);
    assert.equal(ingest.refused, 0, 'no span carries flags');
    assert.equal(t.spansSent, 240);
    assert.equal(t.spansAcknowledged, 240);
    assert.equal(t.tracesSent, 80);
    assert.equal(t.reconciled, false);
    assert.deepEqual(t.refusals.reasons, []);
    assert.equal(results.tempo.sampled, 10);
    const rows = sectionRows(await readFile(join(outDir, 'summary.md'), 'utf8'), /^OTLP traces/);
    assert.match(rows.get('read back') ?? '', /^yes: 10 /);
    assert.equal(rows.get('traces sent'), '80');

    await assert.rejects(access(join(outDir, 'ledger.bin')), 'a traces-only run saves no point ledger');
    const again = await reconcileRun({ runDir: outDir, stdout: captureStdout() });
    assert.ok(!('pointsSent' in again.report));
    assert.equal(again.report.tempo?.sampled, 10);
    assert.equal(again.report.tempo?.checked, 10);
    const runHex = runIdHexOf(results.run.id);
    const asked = query.requests.filter((r) => r.pathname.startsWith(`/api/traces/${runHex}`)).map((r) => r.pathname);
    assert.equal(asked.length, 20);
    assert.deepEqual(asked.slice(10).sort(), asked.slice(0, 10).sort(), 'reconcile reads the same sampled ids');
    assert.ok(JSON.parse(await readFile(again.path, 'utf8')).tempo);
  } finally {
    await ingest.close();
    await query.close();
  }
});

test('a receiver that refuses every request: results.json and the findings keep its reason (the google.rpc.Status message), not only the status count', async () => {
  const ingest = await tempo201Ingest(true);
  try {
    const { dir, path } = await scenarioFile(`
name: traces-refused
seed: 12
duration: 2s
telemetry:
  endpoint: ${ingest.url}
  protocol: http/json
  exportInterval: 1s
  traces: { ratePerSecond: 20, spansPerTrace: 2, batchDelay: 200ms }
reconcile: { settle: 200ms }
`);
    const { results } = await runScenario({ scenarioPath: path, outDir: join(dir, 'out'), stdout: captureStdout(), handleSignals: false });
    const t = results.summary.traces;
    const recorded = JSON.parse(REFUSED_FLAGS.toString('utf8')) as { message: string };
    assert.equal(t.spansFailed, 80);
    assert.deepEqual(t.statuses, { 400: ingest.requests });
    assert.deepEqual(t.refusals.reasons, [{ status: 400, message: recorded.message, requests: ingest.requests, items: 80 }]);
    const finding = results.findings.find((f: { kind: string }) => f.kind === 'export_refused_spans');
    assert.equal(finding.count, 80);
    assert.ok(finding.detail.includes(recorded.message), 'the finding carries the receiver\'s words');
  } finally {
    await ingest.close();
  }
});
