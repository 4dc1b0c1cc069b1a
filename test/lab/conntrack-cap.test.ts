/**
 * Real kernel, as root: `--conntrack-max 50` reproduces table-pressure SYN drops. Clients
 * hold connections open so their conntrack entries stay live; connections beyond the cap
 * never establish (the SYN is dropped; a 500 ms connect timeout fires before the ~1 s SYN
 * retransmit) and the node's drop counter rises. The same run on a lab without the cap
 * establishes every connection and drops none. Skipped when not root; after() tears down.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { labDown, labStatus, labUp } from '../../lab/lifecycle.ts';
import { runTool } from '../../lab/netns.ts';
import type { LabState } from '../../lab/state.ts';
import { LAB_DEFAULTS } from '../../lab/topology.ts';

const ROOT = process.geteuid?.() === 0;
const CAP = 50;
const HOLD = 80;

/**
 * Opens `total` connections to `host:port` in waves of 10 (so SYNs of one wave race little),
 * each with a `connectTimeoutMs` connect timeout, holds every established one until all
 * waves are done, prints `{ established, failed, errors, maxConnectMs }`, then closes all.
 */
const HOLDER = String.raw`
const net = require('node:net');
const [host, port, totalArg, timeoutArg] = process.argv.slice(1);
const total = Number(totalArg), timeoutMs = Number(timeoutArg), held = [], errors = {};
let established = 0, failed = 0, maxConnectMs = 0;
function attempt() {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const s = net.connect({ host, port: Number(port) });
    const timer = setTimeout(() => { s.destroy(); errors.ETIMEDOUT = (errors.ETIMEDOUT || 0) + 1; failed++; resolve(); }, timeoutMs);
    s.once('connect', () => { clearTimeout(timer); established++; maxConnectMs = Math.max(maxConnectMs, performance.now() - t0); held.push(s); resolve(); });
    s.once('error', (e) => { clearTimeout(timer); errors[e.code] = (errors[e.code] || 0) + 1; failed++; resolve(); });
  });
}
(async () => {
  for (let i = 0; i < total; i += 10) await Promise.all(Array.from({ length: Math.min(10, total - i) }, attempt));
  process.stdout.write(JSON.stringify({ established, failed, errors, maxConnectMs }));
  for (const s of held) s.destroy();
})();
`;

/**
 * Fills the cap with `fill` held connections, then starts one more connection (3 s connect
 * timeout) and closes the held ones `releaseAfterMs` later; prints that connection's
 * `{ connectMs }` or `{ error }`.
 */
const LATECOMER = String.raw`
const net = require('node:net');
const [host, port, fillArg, releaseArg] = process.argv.slice(1);
const connect = () => new Promise((resolve) => {
  const t0 = performance.now();
  const s = net.connect({ host, port: Number(port) });
  const timer = setTimeout(() => { s.destroy(); resolve({ error: 'ETIMEDOUT' }); }, 3000);
  s.once('connect', () => { clearTimeout(timer); resolve({ socket: s, connectMs: performance.now() - t0 }); });
  s.once('error', (e) => { clearTimeout(timer); resolve({ error: e.code }); });
});
(async () => {
  const held = [];
  for (let i = 0; i < Number(fillArg); i += 10) held.push(...(await Promise.all(Array.from({ length: Math.min(10, Number(fillArg) - i) }, connect))));
  const late = connect();
  setTimeout(() => held.forEach((h) => h.socket && h.socket.destroy()), Number(releaseArg));
  const r = await late;
  if (r.socket) r.socket.destroy();
  process.stdout.write(JSON.stringify({ filled: held.filter((h) => h.socket).length, connectMs: r.connectMs, error: r.error }));
})();
`;

interface HoldResult {
  established: number;
  failed: number;
  errors: Record<string, number>;
  maxConnectMs: number;
}

async function hold(state: LabState, total: number): Promise<HoldResult> {
  const { stdout } = await runTool(
    ['ip', 'netns', 'exec', state.clientNamespace, process.execPath, '-e', HOLDER, state.service.vip, String(state.service.port), String(total), '500'],
    { timeoutMs: 30_000 },
  );
  return JSON.parse(stdout) as HoldResult;
}

describe('tally lab --conntrack-max (real namespaces)', { skip: ROOT ? false : 'needs root (CI runs as root)' }, () => {
  let dir = '';
  const capped = { lab: `c${process.pid}`, statePath: '' };
  const open = { lab: `n${process.pid}`, statePath: '' };
  let cappedState: LabState;
  let openState: LabState;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tally-lab-cap-'));
    capped.statePath = join(dir, 'capped.json');
    open.statePath = join(dir, 'open.json');
    cappedState = await labUp({ ...LAB_DEFAULTS, ...capped, conntrackMaxConnections: CAP });
    openState = await labUp({ ...LAB_DEFAULTS, ...open });
  });

  after(async () => {
    await labDown(capped);
    await labDown(open);
    await rm(dir, { recursive: true, force: true });
  });

  test(`with a cap of ${CAP}: held connections beyond it never establish, and the drop counter rises`, async (t) => {
    const before = await labStatus(capped);
    assert.equal(before.conntrack.labCapConnections, CAP);
    assert.equal(before.counters.capDrop.packets, 0);
    const result = await hold(cappedState, HOLD);
    // Concurrent SYNs can only make the count look higher, so at most CAP get through.
    assert.ok(result.established <= CAP && result.established >= CAP - 5, `established ${result.established}`);
    assert.equal(result.failed, HOLD - result.established);
    assert.deepEqual(Object.keys(result.errors), ['ETIMEDOUT'], 'dropped SYNs time out; nothing is refused or reset');
    const afterStatus = await labStatus(capped);
    t.diagnostic(`established ${result.established}/${HOLD}, cap drops ${afterStatus.counters.capDrop.packets} packets`);
    assert.ok(afterStatus.counters.capDrop.packets >= result.failed, `cap drops ${afterStatus.counters.capDrop.packets} ≥ failed ${result.failed}`);
  });

  test('the cap counts live connections only: once the holders close, new connections get through again', async () => {
    const result = await hold(cappedState, 20);
    assert.deepEqual(result, { ...result, established: 20, failed: 0 });
  });

  test('a SYN dropped at the cap shows the SYN-retransmit signature: a ~1 s connect once the cap frees', async (t) => {
    const before = await labStatus(capped);
    const { stdout } = await runTool(
      ['ip', 'netns', 'exec', cappedState.clientNamespace, process.execPath, '-e', LATECOMER, cappedState.service.vip, String(cappedState.service.port), String(CAP), '300'],
      { timeoutMs: 30_000 },
    );
    const late = JSON.parse(stdout) as { filled: number; connectMs?: number; error?: string };
    t.diagnostic(`filled ${late.filled}, late connect ${late.connectMs?.toFixed(0)} ms`);
    assert.equal(late.error, undefined, stdout);
    assert.ok(late.filled >= CAP - 5, stdout);
    // Linux's initial RTO is 1 s: the first SYN was dropped, the retransmit got through.
    assert.ok((late.connectMs ?? 0) >= 900 && (late.connectMs ?? 0) < 2000, `connect took ${late.connectMs} ms`);
    const afterStatus = await labStatus(capped);
    assert.ok(afterStatus.counters.capDrop.packets > before.counters.capDrop.packets);
  });

  test('the same run without a cap establishes every connection and drops none', async () => {
    const result = await hold(openState, HOLD);
    assert.equal(result.established, HOLD);
    assert.equal(result.failed, 0);
    assert.ok(result.maxConnectMs < 500);
    const status = await labStatus(open);
    assert.equal(status.conntrack.labCapConnections, null);
    assert.equal(status.counters.capDrop.packets, 0);
  });
});
