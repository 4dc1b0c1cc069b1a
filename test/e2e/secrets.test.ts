/**
 * Header values are secrets unless known harmless: headers whose names miss any pattern
 * (`X-Tenant-Auth`, `X-Auth`) never reach plan.json, results.json, intervals.ndjson or
 * stderr, even when a peer echoes the request's headers back in its error body; a known
 * harmless one (`X-Scope-OrgID`) stays readable in plan.json. Real sockets on loopback.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const NODE = process.execPath;
const CLI = new URL('../../bin/tally.ts', import.meta.url).pathname;

/** A peer that answers every request with `status` and a body echoing the request's headers. */
async function echoingPeer(status: number): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(status, { 'content-type': 'text/plain' });
      res.end(`refused; you sent ${JSON.stringify(req.headers)}`);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

async function run(scenario: string): Promise<{ code: number | null; stdout: string; stderr: string; names: string[]; files: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'tally-secrets-'));
  const path = join(dir, 'scenario.yaml');
  await writeFile(path, scenario);
  const out = join(dir, 'out');
  const child = spawn(NODE, [CLI, 'run', path, '--out', out], { stdio: ['ignore', 'pipe', 'pipe'] });
  const guard = setTimeout(() => child.kill('SIGKILL'), 60_000);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c) => (stdout += c));
  child.stderr.on('data', (c) => (stderr += c));
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  clearTimeout(guard);
  const names = await readdir(out).catch(() => [] as string[]);
  let files = '';
  for (const f of names) if (!f.endsWith('.bin')) files += await readFile(join(out, f), 'utf8');
  return { code, stdout, stderr, names, files };
}

const SECRETS = ['tenant-auth-secret-1', 'x-auth-secret-2', 'otlp-tenant-auth-3'];

test('Prometheus echoes the headers in a 401: no header value but the harmless ones in plan.json, stderr or stdout', async () => {
  const prometheus = await echoingPeer(401);
  try {
    const r = await run(`name: secrets
duration: 2s
telemetry:
  endpoint: http://127.0.0.1:9
  exportInterval: 1s
  headers: { X-Tenant-Auth: ${SECRETS[2]} }
  metrics: [{ name: m, instrument: counter, attributes: { a: 2 } }]
backends:
  prometheus:
    url: ${prometheus.url}
    timeout: 2s
    auth: { headers: { X-Tenant-Auth: ${SECRETS[0]}, X-Auth: ${SECRETS[1]}, X-Scope-OrgID: tenant-7 } }
`);
    assert.equal(r.code, 1, r.stderr);
    assert.ok(r.names.includes('plan.json'), 'plan.json was written before the check');
    for (const secret of SECRETS) {
      assert.ok(!r.files.includes(secret), `a run file holds ${secret}`);
      assert.ok(!r.stderr.includes(secret), `stderr holds ${secret}`);
      assert.ok(!r.stdout.includes(secret), `stdout holds ${secret}`);
    }
    assert.ok(r.files.includes('tenant-7'), 'the harmless tenant header stays readable in plan.json');
  } finally {
    prometheus.server.close();
  }
});

test('an OTLP endpoint echoes the headers in a 400: no header value in results.json, intervals.ndjson or the terminal', async () => {
  const collector = await echoingPeer(400);
  try {
    const r = await run(`name: secrets-otlp
duration: 2s
telemetry:
  endpoint: ${collector.url}
  exportInterval: 1s
  headers: { X-Auth: ${SECRETS[1]}, X-Tenant-Auth: ${SECRETS[2]} }
  metrics: [{ name: m, instrument: counter, attributes: { a: 2 } }]
`);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(r.files.includes('"pointsFailed": 4'), 'the refused exports are in results.json');
    for (const secret of SECRETS) {
      assert.ok(!r.files.includes(secret), `a run file holds ${secret}`);
      assert.ok(!r.stderr.includes(secret) && !r.stdout.includes(secret), `the terminal shows ${secret}`);
    }
  } finally {
    collector.server.close();
  }
});
