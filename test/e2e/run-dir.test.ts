/**
 * The run directory, through the CLI: a path tally cannot use whole is refused before
 * anything is sent (a file, a pseudo filesystem, a directory with files in it, one that
 * another run holds), a read-only one is a clean runtime error, a killed run leaves a
 * results.json from its first second, and `tally reconcile` on a damaged plan.json is bad
 * input, not a bug. Real processes, a real read-only tmpfs (the tests run as root).
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';

const NODE = process.execPath;
const CLI = new URL('../../bin/tally.ts', import.meta.url).pathname;
const BANNER = /this is a bug/;

interface Exit {
  code: number | null;
  out: string;
  err: string;
  ms: number;
}

/** Start the CLI; it is killed (by its pid) after `timeoutMs`, so a hang fails the test instead of stalling it. */
function start(args: string[], timeoutMs = 60_000): { child: ChildProcess; exit: Promise<Exit> } {
  const started = performance.now();
  const child = spawn(NODE, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const guard = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  child.on('exit', () => clearTimeout(guard));
  let out = '';
  let err = '';
  child.stdout!.on('data', (c) => (out += c));
  child.stderr!.on('data', (c) => (err += c));
  const exit = new Promise<Exit>((resolve) => child.on('exit', (code) => resolve({ code, out, err, ms: performance.now() - started })));
  return { child, exit };
}

const tally = (args: string[], timeoutMs?: number): Promise<Exit> => start(args, timeoutMs).exit;

async function scenario(text: string): Promise<{ dir: string; path: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'tally-rundir-'));
  const path = join(dir, 'scenario.yaml');
  await writeFile(path, text);
  return { dir, path };
}

const SHORT = `name: rundir
duration: 2s
telemetry:
  exportInterval: 1s
  metrics: [{ name: m, instrument: counter, attributes: { a: 2 } }]
`;

async function waitFor(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    assert.ok(Date.now() < deadline, `timed out waiting for ${what}`);
    await delay(50);
  }
}

const mounts: string[] = [];
after(() => {
  for (const m of mounts) execFileSync('umount', [m]);
});

test('--out naming a file is bad input (exit 2), and nothing is written', async () => {
  const { dir, path } = await scenario(SHORT);
  const file = join(dir, 'not-a-dir');
  await writeFile(file, 'x');
  const r = await tally(['run', path, '--out', file]);
  assert.equal(r.code, 2, r.err);
  assert.doesNotMatch(r.err, BANNER);
  assert.equal(await readFile(file, 'utf8'), 'x');
});

test('--out on a read-only filesystem is a runtime failure naming the path (exit 1), not a bug', async () => {
  const { dir, path } = await scenario(SHORT);
  const ro = join(dir, 'ro');
  await mkdir(ro);
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'ro,size=1m', 'tally-ro', ro]);
  mounts.push(ro);
  const r = await tally(['run', path, '--out', join(ro, 'run')]);
  assert.equal(r.code, 1, r.err);
  assert.doesNotMatch(r.err, BANNER);
  assert.match(r.err, /TALLY_IO_FAILED/);
  assert.ok(r.err.includes(join(ro, 'run')), r.err);
});

test('--out inside /proc is refused at once (exit 2), not spun on', async () => {
  const { path } = await scenario(SHORT);
  const r = await tally(['run', path, '--out', '/proc/self/tally-out'], 15_000);
  assert.equal(r.code, 2, r.err);
  assert.ok(r.ms < 15_000, `${Math.round(r.ms)} ms`);
});

test('a directory with files is refused; --overwrite replaces tally\'s own files and leaves the others', async () => {
  const { dir, path } = await scenario(SHORT);
  const out = join(dir, 'out');
  await mkdir(out);
  await writeFile(join(out, 'results.json'), '{"stale":true}');
  await writeFile(join(out, 'reconcile-20200101T000000Z.json'), '{}');
  await writeFile(join(out, 'notes.txt'), 'mine');
  const refused = await tally(['run', path, '--out', out]);
  assert.equal(refused.code, 2, refused.err);
  assert.equal(await readFile(join(out, 'results.json'), 'utf8'), '{"stale":true}', 'nothing touched');
  const r = await tally(['run', path, '--out', out, '--overwrite']);
  assert.equal(r.code, 0, r.err);
  const files = await readdir(out);
  assert.ok(!files.includes('reconcile-20200101T000000Z.json'), 'a stale file of the earlier run is gone');
  assert.equal(await readFile(join(out, 'notes.txt'), 'utf8'), 'mine');
  assert.equal(JSON.parse(await readFile(join(out, 'results.json'), 'utf8')).complete, true);
  assert.ok(!files.includes('.tally.lock'), 'the lock is released');
});

test('two runs on the same --out: the second is refused while the first holds it, the first is untouched', async () => {
  const { dir, path } = await scenario(SHORT.replace('duration: 2s', 'duration: 4s'));
  const out = join(dir, 'out');
  const first = start(['run', path, '--out', out]);
  await waitFor('the first run to lock its directory', () => existsSync(join(out, '.tally.lock')));
  const second = await tally(['run', path, '--out', out]);
  assert.equal(second.code, 2, second.err);
  const r = await first.exit;
  assert.equal(r.code, 0, r.err);
  const lines = (await readFile(join(out, 'intervals.ndjson'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { interval: number });
  assert.deepEqual(lines.map((l) => l.interval), lines.map((_, i) => i), 'one run\'s lines, in order');
});

test('a run SIGKILLed in its first seconds leaves a results.json (the first checkpoint is written at the start)', async () => {
  const { dir, path } = await scenario(SHORT.replace('duration: 2s', 'duration: 20s'));
  const out = join(dir, 'out');
  const run = start(['run', path, '--out', out]);
  await waitFor('the first interval line', async () => (await readFile(join(out, 'intervals.ndjson'), 'utf8').catch(() => '')).includes('\n'));
  run.child.kill('SIGKILL');
  await run.exit;
  const results = JSON.parse(await readFile(join(out, 'results.json'), 'utf8'));
  assert.equal(results.complete, false);
  assert.equal(results.incompleteReason, 'running');
});

test('tally reconcile on a run whose plan.json is null is bad input (exit 2), not a bug', async () => {
  const { dir } = await scenario(SHORT);
  const runDir = join(dir, 'run');
  await mkdir(runDir);
  await writeFile(join(runDir, 'plan.json'), 'null');
  await writeFile(join(runDir, 'ledger.bin'), '');
  const r = await tally(['reconcile', runDir]);
  assert.equal(r.code, 2, r.err);
  assert.doesNotMatch(r.err, BANNER);
});
