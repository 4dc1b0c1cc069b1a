/**
 * Read-back with credentials, through a tiny authenticating proxy on 127.0.0.1 in front of
 * the real Prometheus 2.42 (Prometheus 2.42 itself has no per-request auth to test against):
 * the bearer token comes from a file, a tenant header rides along, remote write carries
 * its own Authorization header, and no credential appears in any file or line tally writes.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runScenario } from '../../pipeline/run.ts';
import { TallyError } from '../../core/errors.ts';
import { startPrometheus, type PrometheusServer } from '../peers/prometheus.ts';
import { captureStdout, remoteWriteScenario, scenarioFile } from './readback-helpers.ts';

const TOKEN = 'tk-7f3a9c1e5d2b8a4f6e0c';
const WRITE_TOKEN = 'wr-1b2c3d4e5f6a7b8c9d0e';

interface SeenRequest {
  method: string;
  path: string;
  authorized: boolean;
  tenant: string | undefined;
}

/** Forwards to `upstream` only requests with the right bearer token (per path prefix); 401 otherwise. */
async function startAuthProxy(upstream: string): Promise<{ url: string; seen: SeenRequest[]; close(): Promise<void> }> {
  const seen: SeenRequest[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = req.url ?? '/';
      const want = path.startsWith('/api/v1/write') ? WRITE_TOKEN : TOKEN;
      const authorized = req.headers.authorization === `Bearer ${want}`;
      seen.push({ method: req.method ?? 'GET', path: path.split('?')[0], authorized, tenant: req.headers['x-scope-orgid'] as string | undefined });
      if (!authorized) {
        res.writeHead(401, { 'content-type': 'text/plain' });
        res.end('unauthorized\n');
        return;
      }
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string' && !['host', 'authorization', 'connection', 'content-length'].includes(k)) headers[k] = v;
      const body = chunks.length > 0 ? Buffer.concat(chunks) : undefined;
      fetch(`${upstream}${path}`, { method: req.method, headers, body }).then(
        async (r) => {
          const out = Buffer.from(await r.arrayBuffer());
          res.writeHead(r.status, { 'content-type': r.headers.get('content-type') ?? 'application/octet-stream' });
          res.end(out);
        },
        () => {
          res.writeHead(502);
          res.end();
        },
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

describe('read-back with credentials through an authenticating proxy', () => {
  let prom: PrometheusServer;
  let proxy: Awaited<ReturnType<typeof startAuthProxy>>;
  before(async () => {
    prom = await startPrometheus();
    proxy = await startAuthProxy(prom.url);
  });
  after(async () => {
    await proxy.close();
    await prom.stop();
  });

  test('bearer token from a file and a tenant header: the run reconciles, every request was authorized, and no secret is written anywhere', async () => {
    const { dir, path } = await scenarioFile('');
    const tokenFile = join(dir, 'token');
    await writeFile(tokenFile, `${TOKEN}\n`);
    await writeFile(path, remoteWriteScenario({
      name: 'rb-auth', seed: 3, remoteWriteUrl: `${proxy.url}/api/v1/write`, prometheusUrl: proxy.url, attributes: '{ route: 10, pod: 30 }', ticks: 4, intervalMs: 500,
      extraTelemetry: `  headers: { Authorization: "Bearer ${WRITE_TOKEN}" }`,
      extraPrometheus: `    auth: { bearerTokenFile: ${tokenFile}, headers: { X-Scope-OrgID: tenant-1 } }`,
    }));
    const stdout = captureStdout();
    const outDir = join(dir, 'out');
    const { results } = await runScenario({ scenarioPath: path, outDir, stdout, handleSignals: false });
    assert.equal(results.complete, true);
    assert.equal(results.summary.metrics.pointsSent, 1200);
    assert.equal(results.summary.metrics.pointsMissing, 0);
    assert.equal(results.readback.visibility.lost, 0);
    assert.ok(proxy.seen.length > 0);
    assert.deepEqual(proxy.seen.filter((r) => !r.authorized), []);
    const api = proxy.seen.filter((r) => r.path.startsWith('/api/v1/query') || r.path === '/metrics' || r.path.startsWith('/api/v1/status'));
    assert.ok(api.length >= 3, `${api.length} API requests`);
    assert.deepEqual([...new Set(api.map((r) => r.tenant))], ['tenant-1']);
    assert.ok(results.prometheusIngest, 'Prometheus /metrics was read with the credentials');

    const written = [stdout.text()];
    for (const f of await readdir(outDir)) written.push(await readFile(join(outDir, f), 'latin1'));
    for (const text of written) {
      assert.equal(text.includes(TOKEN), false);
      assert.equal(text.includes(WRITE_TOKEN), false);
    }
    const plan = JSON.parse(await readFile(join(outDir, 'plan.json'), 'utf8'));
    assert.equal(plan.scenario.telemetry.headers.Authorization, '[REDACTED]');
    assert.equal(plan.scenario.backends.prometheus.auth.bearerTokenFile, tokenFile);
  });

  test('a wrong token fails the run before anything is sent, and the error does not carry it', async () => {
    const { dir, path } = await scenarioFile('');
    const tokenFile = join(dir, 'token');
    const wrong = 'wrong-token-0a1b2c3d4e';
    await writeFile(tokenFile, wrong);
    await writeFile(path, remoteWriteScenario({
      name: 'rb-auth-bad', seed: 3, remoteWriteUrl: `${proxy.url}/api/v1/write`, prometheusUrl: proxy.url, attributes: '{ route: 2 }', ticks: 2, intervalMs: 500,
      extraTelemetry: `  headers: { Authorization: "Bearer ${WRITE_TOKEN}" }`,
      extraPrometheus: `    auth: { bearerTokenFile: ${tokenFile} }`,
    }));
    const writesBefore = proxy.seen.filter((r) => r.path === '/api/v1/write').length;
    await assert.rejects(runScenario({ scenarioPath: path, outDir: join(dir, 'out'), stdout: captureStdout(), handleSignals: false }), (error: unknown) => {
      assert.ok(error instanceof TallyError);
      assert.equal(error.code, 'TALLY_COLLECTOR_FAILED');
      assert.equal(JSON.stringify({ m: error.message, d: error.details }).includes(wrong), false);
      assert.equal((error.details as { httpStatus?: number }).httpStatus, 401);
      return true;
    });
    assert.equal(proxy.seen.filter((r) => r.path === '/api/v1/write').length, writesBefore, 'no remote write was sent');
  });
});
