/**
 * A run whose output filesystem fills up mid-run, on a real small tmpfs mounted for the
 * test (the tests run as root): a clean error naming the path (exit 1, no "this is a bug"
 * and no raw stack), nothing partial left (whole NDJSON lines, no temporary files, no
 * results.json still saying "running"), and the figures printed on the terminal.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { closeSync, openSync, writeSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';

const NODE = process.execPath;
const CLI = new URL('../../bin/tally.ts', import.meta.url).pathname;

const mounts: string[] = [];
after(() => {
  for (const m of mounts) execFileSync('umount', [m]);
});

/** Write zeros into `path` until the filesystem is full. */
function fill(path: string): void {
  const fd = openSync(path, 'w');
  const chunk = Buffer.alloc(4096);
  try {
    for (let i = 0; i < 1_000_000; i++) writeSync(fd, chunk);
    assert.fail('the filesystem never filled');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
    // Whatever is left of the last page, too.
    try {
      for (let i = 0; i < 4096; i++) writeSync(fd, Buffer.alloc(1));
    } catch {
      // full
    }
  } finally {
    closeSync(fd);
  }
}

test('the output filesystem fills mid-run: exit 1 naming the path, whole lines, no temporary files, the figures on the terminal', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'tally-full-'));
  const scenarioPath = join(dir, 'scenario.yaml');
  await writeFile(scenarioPath, `name: full-disk
duration: 30s
load: { executor: constant-arrival-rate, rate: 200 }
telemetry:
  exportInterval: 1s
  metrics: [{ name: m, instrument: counter, attributes: { a: 50 } }]
`);
  const mnt = join(dir, 'mnt');
  await mkdir(mnt);
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tally-full', mnt]);
  mounts.push(mnt);
  const out = join(mnt, 'run');
  const child = spawn(NODE, [CLI, 'run', scenarioPath, '--out', out], { stdio: ['ignore', 'pipe', 'pipe'] });
  const guard = setTimeout(() => child.kill('SIGKILL'), 90_000);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c) => (stdout += c));
  child.stderr.on('data', (c) => (stderr += c));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const deadline = Date.now() + 30_000;
  for (;;) {
    const text = await readFile(join(out, 'intervals.ndjson'), 'utf8').catch(() => '');
    if (text.split('\n').filter(Boolean).length >= 2) break;
    assert.ok(Date.now() < deadline, `no 2 interval lines within 30 s; stderr: ${stderr}`);
    await delay(50);
  }
  const runId = JSON.parse(await readFile(join(out, 'results.json'), 'utf8')).run.id as string;
  fill(join(mnt, 'filler'));
  const fullAt = Date.now();
  const code = await exited;
  clearTimeout(guard);
  assert.equal(code, 1, `stderr: ${stderr}`);
  assert.ok(Date.now() - fullAt < 20_000, 'the run stopped soon after the disk filled, not at its planned end');
  assert.doesNotMatch(stderr, /this is a bug/);
  assert.doesNotMatch(stderr, /^\s+at /m, 'no raw stack');
  assert.match(stderr, /TALLY_IO_FAILED/);
  assert.ok(stderr.includes(out), `the error names the path: ${stderr}`);
  // The figures reached the terminal.
  assert.ok(stdout.includes(runId), stdout);
  const files = await readdir(out);
  assert.deepEqual(files.filter((f) => f.includes('.tmp')), [], 'no temporary file left');
  const text = await readFile(join(out, 'intervals.ndjson'), 'utf8');
  assert.ok(text === '' || text.endsWith('\n'), 'the log ends with a whole line');
  for (const line of text.split('\n').filter(Boolean)) assert.equal(typeof JSON.parse(line).interval, 'number');
  if (files.includes('results.json')) {
    const results = JSON.parse(await readFile(join(out, 'results.json'), 'utf8'));
    assert.equal(results.complete, false);
    assert.notEqual(results.incompleteReason, 'running', 'results.json does not say the run is still going');
  }
});
