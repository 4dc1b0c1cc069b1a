/**
 * A Prometheus that accepts connections and never answers, at start-up: the run says what
 * it is waiting for, gives up after `backends.prometheus.timeout` per attempt (a bounded
 * number of attempts), and fails cleanly (exit 1) before any traffic, instead of blocking
 * for minutes in silence. Real sockets on loopback.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const NODE = process.execPath;
const CLI = new URL('../../bin/tally.ts', import.meta.url).pathname;

test('a hanging Prometheus at start-up: tally says what it waits for and fails within its configured timeout (exit 1)', async () => {
  const sockets = new Set<Socket>();
  let requests = 0;
  const prometheus = createServer((s) => {
    sockets.add(s);
    s.on('data', () => requests++);
    s.on('error', () => {});
  });
  await new Promise<void>((resolve) => prometheus.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(prometheus.address() as AddressInfo).port}`;
  // The OTLP endpoint counts what reaches it: nothing may, the run must fail before traffic.
  let exported = 0;
  const collector = createServer((s) => {
    exported++;
    s.destroy();
  });
  await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
  const dir = await mkdtemp(join(tmpdir(), 'tally-promhang-'));
  const path = join(dir, 'scenario.yaml');
  await writeFile(path, `name: promhang
duration: 5s
telemetry:
  endpoint: http://127.0.0.1:${(collector.address() as AddressInfo).port}
  exportInterval: 1s
  metrics: [{ name: m, instrument: counter, attributes: { a: 2 } }]
backends:
  prometheus: { url: ${url}, timeout: 1s }
`);
  try {
    const started = performance.now();
    const child = spawn(NODE, [CLI, 'run', path, '--out', join(dir, 'out')], { stdio: ['ignore', 'pipe', 'pipe'] });
    const guard = setTimeout(() => child.kill('SIGKILL'), 60_000);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    clearTimeout(guard);
    const tookMs = performance.now() - started;
    assert.equal(code, 1, stderr);
    assert.doesNotMatch(stderr, /this is a bug/);
    assert.ok(stdout.includes(url), `it says what it waits for: ${stdout}`);
    assert.ok(tookMs < 15_000, `${Math.round(tookMs)} ms`);
    assert.ok(requests >= 1, 'it asked Prometheus');
    assert.equal(exported, 0, 'nothing was sent');
  } finally {
    for (const s of sockets) s.destroy();
    prometheus.close();
    collector.close();
  }
});
