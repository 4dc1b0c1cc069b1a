/**
 * Signals after the load phase, through the CLI on real sockets: SIGTERM during a long
 * settle or during the OTLP drain to an endpoint that never answers stops the run within
 * about a second, with exit 143 and what was measured kept; a second SIGINT exits at once
 * (130), whatever the first one is still waiting for.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';

const NODE = process.execPath;
const CLI = new URL('../../bin/tally.ts', import.meta.url).pathname;

/** An OTLP endpoint that accepts connections and reads requests, and never answers. */
async function hangingEndpoint(): Promise<{ url: string; server: Server }> {
  const sockets = new Set<Socket>();
  const server = createServer((s) => {
    sockets.add(s);
    s.on('data', () => {});
    s.on('error', () => {});
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  server.on('close', () => {
    for (const s of sockets) s.destroy();
  });
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}`, server };
}

const servers: Server[] = [];
after(() => {
  for (const s of servers) s.close();
});

interface Running {
  outDir: string;
  exited: Promise<{ code: number | null; atMs: number; stderr: string }>;
  signal(name: NodeJS.Signals): number;
}

async function startRun(scenario: string): Promise<Running> {
  const dir = await mkdtemp(join(tmpdir(), 'tally-signals-'));
  const path = join(dir, 'scenario.yaml');
  await writeFile(path, scenario);
  const outDir = join(dir, 'out');
  const child = spawn(NODE, [CLI, 'run', path, '--out', outDir], { stdio: ['ignore', 'ignore', 'pipe'] });
  const guard = setTimeout(() => child.kill('SIGKILL'), 120_000);
  let stderr = '';
  child.stderr.on('data', (c) => (stderr += c));
  const exited = new Promise<{ code: number | null; atMs: number; stderr: string }>((resolve) =>
    child.on('exit', (code) => {
      clearTimeout(guard);
      resolve({ code, atMs: performance.now(), stderr });
    }),
  );
  return {
    outDir,
    exited,
    signal: (name) => {
      child.kill(name);
      return performance.now();
    },
  };
}

/** Wait until intervals.ndjson has `n` lines. */
async function lines(outDir: string, n: number): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const text = await readFile(join(outDir, 'intervals.ndjson'), 'utf8').catch(() => '');
    if (text.split('\n').filter(Boolean).length >= n) return;
    assert.ok(Date.now() < deadline, `fewer than ${n} interval lines after 60 s`);
    await delay(50);
  }
}

const results = async (outDir: string): Promise<Record<string, any>> => JSON.parse(await readFile(join(outDir, 'results.json'), 'utf8'));

test('SIGTERM during a 30 s settle stops the run within about a second (143), the reconciliation kept', async () => {
  const run = await startRun(`name: settle
duration: 2s
telemetry:
  exportInterval: 1s
  metrics: [{ name: m, instrument: counter, attributes: { a: 10 } }]
reconcile: { settle: 30s }
`);
  await lines(run.outDir, 2);
  await delay(2500); // the load has ended; the settle has begun
  const sentAt = run.signal('SIGTERM');
  const { code, atMs, stderr } = await run.exited;
  assert.equal(code, 143, stderr);
  assert.ok(atMs - sentAt < 2500, `exited ${Math.round(atMs - sentAt)} ms after SIGTERM`);
  const r = await results(run.outDir);
  assert.equal(r.complete, false);
  assert.equal(r.incompleteReason, 'SIGTERM');
  assert.equal(r.summary.metrics.pointsSent, 20);
  assert.equal(r.summary.metrics.pointsReceived, 20, 'what the receiver saw is reconciled, not dropped');
});

test('SIGTERM during the OTLP drain to an endpoint that never answers stops within about a second (143), unsettled points counted', async () => {
  const { url, server } = await hangingEndpoint();
  servers.push(server);
  const run = await startRun(`name: drain
duration: 2s
telemetry:
  endpoint: ${url}
  exportInterval: 1s
  timeout: 30s
  metrics: [{ name: m, instrument: counter, attributes: { a: 10 } }]
`);
  await lines(run.outDir, 4); // lines keep coming while the shards drain
  const sentAt = run.signal('SIGTERM');
  const { code, atMs, stderr } = await run.exited;
  assert.equal(code, 143, stderr);
  assert.ok(atMs - sentAt < 3000, `exited ${Math.round(atMs - sentAt)} ms after SIGTERM`);
  const r = await results(run.outDir);
  assert.equal(r.incompleteReason, 'SIGTERM');
  assert.equal(r.summary.metrics.pointsSent, 20);
  assert.equal(r.summary.metrics.pointsUnsettled, 20);
});

test('a second SIGINT exits at once (130), while the first is still stopping the run', async () => {
  const { url, server } = await hangingEndpoint();
  servers.push(server);
  const run = await startRun(`name: twice
duration: 20s
load: { executor: constant-arrival-rate, rate: 100 }
telemetry:
  endpoint: ${url}
  exportInterval: 1s
  timeout: 30s
  metrics: [{ name: m, instrument: counter, attributes: { a: 10 } }]
`);
  await lines(run.outDir, 3);
  run.signal('SIGINT');
  await delay(100);
  const secondAt = run.signal('SIGINT');
  const { code, atMs, stderr } = await run.exited;
  assert.equal(code, 130, stderr);
  assert.ok(atMs - secondAt < 700, `exited ${Math.round(atMs - secondAt)} ms after the second SIGINT`);
  const r = await results(run.outDir);
  assert.equal(r.complete, false);
  assert.equal(r.incompleteReason, 'SIGINT');
});
