/**
 * Real kernel, as root: `tally lab up` with 3 backends, 3,000 short-lived HTTP connections
 * to the VIP from the client namespace through `tally lab exec`, random endpoint choice
 * within ±10 % of uniform, nft DNAT counters equal to what the client saw, then `down`.
 * Skipped when not root. Every namespace is removed in after(), also on failure.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../../core/errors.ts';
import { labDown, labStatus, labUp } from '../../lab/lifecycle.ts';
import type { LabStatus } from '../../lab/lifecycle.ts';
import { listNamespaces, runTool } from '../../lab/netns.ts';
import { renderRuleset } from '../../lab/nft.ts';
import type { LabState } from '../../lab/state.ts';
import { LAB_DEFAULTS, MAX_BACKENDS, planTopology } from '../../lab/topology.ts';

const ROOT = process.geteuid?.() === 0;
const LAB = `u${process.pid}`;
const PREFIX = `tally-${LAB}-`;
const CONNECTIONS = 3000;

/** Runs `labCommand` in a child process the way bin/tally.ts does (ConfigError → exit 2), so `lab exec` output can be captured. */
const CLI_SHIM = `
const { labCommand } = await import(process.argv[1]);
const { exitCodeFor } = await import(process.argv[2]);
try { process.exitCode = await labCommand(process.argv.slice(3), process.stdout); }
catch (e) { process.stderr.write('error: ' + e.message + '\\n'); process.exitCode = exitCodeFor(e); }
`;
const LAB_TS = new URL('../../bin/commands/lab.ts', import.meta.url).pathname;
const ERRORS_TS = new URL('../../core/errors.ts', import.meta.url).pathname;

/**
 * Load client for inside the client namespace: `url total concurrency`; one new connection
 * per request; prints `{ started, counts }` (by x-tally-backend) and how many distinct local
 * ports the connections used.
 */
const CHURN = String.raw`
const http = require('node:http');
const [url, totalArg, concurrencyArg] = process.argv.slice(1);
const total = Number(totalArg), deadline = Date.now() + 30000, counts = {}, ports = new Set();
let started = 0, inFlight = 0;
const bump = (k) => { counts[k] = (counts[k] || 0) + 1; };
function next() {
  while (inFlight < Number(concurrencyArg) && started < total && Date.now() < deadline) {
    started++; inFlight++;
    const req = http.get(url, { agent: false, timeout: 2000 }, (res) => {
      res.resume();
      res.on('end', () => { bump(res.headers['x-tally-backend'] || 'none'); inFlight--; next(); });
    });
    req.on('socket', (s) => s.once('connect', () => ports.add(s.localPort)));
    req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })));
    req.on('error', (e) => { bump('error:' + (e.code || e.message)); inFlight--; next(); });
  }
  if (inFlight === 0) process.stdout.write(JSON.stringify({ started, counts, distinctPorts: ports.size }));
}
next();
`;

function cli(args: string[], timeoutMs: number): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--input-type=module', '-e', CLI_SHIM, LAB_TS, ERRORS_TS, ...args], { timeout: timeoutMs, maxBuffer: 1 << 24 }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : -1, stdout, stderr });
    });
  });
}

/** Exited: no /proc entry, or a zombie not yet reaped by init. */
function isGone(pid: number): boolean {
  try {
    return /\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return true;
  }
}

describe('tally lab up/exec/status/down (real namespaces)', { skip: ROOT ? false : 'needs root (CI runs as root)' }, () => {
  let dir = '';
  let statePath = '';
  let state: LabState;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tally-lab-test-'));
    statePath = join(dir, 'state.json');
    state = await labUp({ ...LAB_DEFAULTS, lab: LAB, backends: 3, statePath });
  });

  after(async () => {
    await labDown({ lab: LAB, statePath });
    await rm(dir, { recursive: true, force: true });
  });

  test('up: namespaces, state file, a target process per backend inside its namespace', async () => {
    const mine = (await listNamespaces()).filter((n) => n.startsWith(PREFIX)).sort();
    assert.deepEqual(mine, [`${PREFIX}be0`, `${PREFIX}be1`, `${PREFIX}be2`, `${PREFIX}client`, `${PREFIX}node`]);
    assert.ok(existsSync(statePath));
    assert.equal(state.service.vip, '10.203.1.1');
    assert.equal(state.service.port, 80);
    for (const b of state.backends) {
      const { stdout } = await runTool(['ip', 'netns', 'identify', String(b.pid)]);
      assert.equal(stdout.trim(), b.namespace, `pid ${b.pid} lives in ${b.namespace}`);
    }
  });

  test('up again refuses with TALLY_USAGE and leaves the running lab alone', async () => {
    await assert.rejects(labUp({ ...LAB_DEFAULTS, lab: LAB, backends: 3, statePath }), (e: unknown) => e instanceof ConfigError && e.code === 'TALLY_USAGE');
    const status = await labStatus({ lab: LAB, statePath });
    assert.ok(status.backends.every((b) => b.alive));
  });

  test('the largest ruleset (200 endpoints) passes nft -c inside the node namespace', async () => {
    const text = renderRuleset(planTopology({ ...LAB_DEFAULTS, lab: LAB, backends: MAX_BACKENDS, conntrackMaxConnections: 10 }));
    await runTool(['ip', 'netns', 'exec', state.nodeNamespace, 'nft', '-c', '-f', '-'], { input: text });
  });

  test(`lab exec: ${CONNECTIONS} new connections to the VIP spread uniformly (±10 %) over 3 backends`, async (t) => {
    const before = await labStatus({ lab: LAB, statePath });
    const run = await cli(['exec', '--lab', LAB, '--state', statePath, '--', process.execPath, '-e', CHURN, state.service.url, String(CONNECTIONS), '32'], 60_000);
    assert.equal(run.code, 0, run.stderr);
    const { started, counts, distinctPorts } = JSON.parse(run.stdout) as { started: number; counts: Record<string, number>; distinctPorts: number };
    assert.equal(started, CONNECTIONS);
    assert.deepEqual(Object.keys(counts).sort(), ['be0', 'be1', 'be2'], `only backend names, no errors: ${run.stdout}`);
    t.diagnostic(`served: ${JSON.stringify(counts)}`);
    const expected = CONNECTIONS / 3;
    for (const name of ['be0', 'be1', 'be2']) {
      assert.ok(Math.abs(counts[name] - expected) <= expected * 0.1, `${name} served ${counts[name]}, expected ${expected} ± 10 %`);
    }
    // Telemetry fidelity: the node's DNAT counters saw exactly the connections the client saw.
    const afterStatus: LabStatus = await labStatus({ lab: LAB, statePath });
    for (const name of ['be0', 'be1', 'be2']) {
      assert.equal(afterStatus.counters.endpoints[name].packets - before.counters.endpoints[name].packets, counts[name], name);
    }
    assert.equal(afterStatus.counters.capDrop.packets, 0);
    // Every connection went through the node's conntrack and stays there in TIME_WAIT (120 s). The server
    // closes first, so the client may pick a source port again at once; the new SYN then replaces the
    // TIME_WAIT entry of the same tuple, so the count is per distinct tuple (up to ~10 % fewer than connections).
    t.diagnostic(`node conntrack count ${afterStatus.conntrack.count}, distinct client ports ${distinctPorts}`);
    assert.ok(afterStatus.conntrack.count >= distinctPorts, `node conntrack count ${afterStatus.conntrack.count} < ${distinctPorts}`);
    assert.equal(afterStatus.conntrack.stats.insert_failed, 0);
  });

  test('lab exec returns the command exit code and sees the lab environment', async () => {
    const run = await cli(['exec', '--lab', LAB, '--state', statePath, '--', process.execPath, '-e', 'console.log(process.env.TALLY_LAB_URL); process.exit(7)'], 20_000);
    assert.equal(run.code, 7);
    assert.equal(run.stdout.trim(), 'http://10.203.1.1:80/');
  });

  test('down removes every namespace, process and the state file; a second down is a no-op', async () => {
    const report = await labDown({ lab: LAB, statePath });
    assert.equal(report.namespacesDeleted.length, 5);
    assert.deepEqual(report.processesSurviving, []);
    assert.deepEqual((await listNamespaces()).filter((n) => n.startsWith(PREFIX)), []);
    for (const b of state.backends) assert.ok(isGone(b.pid), `backend pid ${b.pid} stopped`);
    assert.ok(!existsSync(statePath));
    const again = await labDown({ lab: LAB, statePath });
    assert.deepEqual(again.namespacesDeleted, []);
    assert.equal(again.stateFileRemoved, false);
    await assert.rejects(labStatus({ lab: LAB, statePath }), (e: unknown) => e instanceof ConfigError && e.code === 'TALLY_USAGE');
  });
});
