/**
 * The TIME_WAIT connect cliff, forecast and met live: a run in a fresh network namespace
 * with `tcp_tw_reuse=0` and a 10,000-port range (so the cliff comes at about 5,000
 * TIME_WAIT sockets, after ~2.5 s at 2,000/s instead of ~16 s over 64,512 ports). The
 * budget warns before the run; during it the connect calls slow by orders of magnitude and
 * the run says so. Needs root (CI runs as root).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const CLI = new URL('../../bin/tally.ts', import.meta.url).pathname;
const sh = promisify(execFile);

test('with tcp_tw_reuse=0 the budget forecasts the connect cliff and the run detects it', { skip: process.geteuid?.() === 0 ? false : 'needs root for a network namespace' }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'tally-cliff-'));
  const path = join(dir, 'scenario.yaml');
  await writeFile(path, 'name: cliff\nduration: 6s\nload: { executor: constant-arrival-rate, rate: 2000, maxInFlight: 256, connection: { close: fin } }\n');
  const ns = `tally-cliff-${process.pid}`;
  await sh('ip', ['netns', 'add', ns]);
  try {
    await sh('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    await sh('ip', ['netns', 'exec', ns, 'sysctl', '-q', '-w', 'net.ipv4.tcp_tw_reuse=0', 'net.ipv4.ip_local_port_range=40000 49999']);
    await sh('ip', ['netns', 'exec', ns, process.execPath, CLI, 'run', path, '--out', join(dir, 'out')], { timeout: 90_000 }).catch((e: { code?: number }) => {
      if (e.code !== 0 && e.code !== 1) throw e; // exit 1 is fine: a saturated run with findings still writes results
    });
    const r = JSON.parse(await readFile(join(dir, 'out', 'results.json'), 'utf8'));
    const cliffWarning = r.portBudget.warnings.find((w: { code: string }) => w.code === 'PORT_BUDGET_CONNECT_CLIFF');
    assert.ok(cliffWarning, JSON.stringify(r.portBudget.warnings.map((w: { code: string }) => w.code)));
    assert.equal(r.portBudget.ok, false);
    assert.equal(r.portBudget.numbers.connectCliffTimeWaitPerPair, 5000);
    const finding = r.findings.find((f: { kind: string }) => f.kind === 'time_wait_connect_cliff');
    assert.ok(finding, `no cliff finding; connect calls ${JSON.stringify(r.summary.load.connectCallUs)}`);
    assert.ok(r.summary.load.connectCallUs.max >= 200, JSON.stringify(r.summary.load.connectCallUs));
    assert.equal(r.generator.saturated, true);
  } finally {
    await sh('ip', ['netns', 'del', ns]);
    await rm(dir, { recursive: true, force: true });
  }
});
