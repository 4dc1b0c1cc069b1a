/**
 * Real kernel, as root: `tally run` from the lab's client namespace against the Service
 * VIP. Each response names its backend (x-tally-backend), so the run reports endpoint
 * spread; the run samples the node namespace's datapath counters (where DNAT and conntrack
 * happen). With the lab's conntrack cap set low, the run itself reports the SYN drops
 * (connect timeouts or the SYN-retransmit signature) and the cap's drop counter rises; the
 * same run without the cap reports none. Skipped when not root; after() tears down.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { labDown, labStatus, labUp } from '../../lab/lifecycle.ts';
import { LAB_DEFAULTS } from '../../lab/topology.ts';

const ROOT = process.geteuid?.() === 0;
const CLI = new URL('../../bin/tally.ts', import.meta.url).pathname;
const CAP = 40;

describe('tally run through the lab VIP (real namespaces)', { skip: ROOT ? false : 'needs root (CI runs as root)' }, () => {
  let dir = '';
  const open = { lab: `v${process.pid}`, statePath: '' };
  const capped = { lab: `w${process.pid}`, statePath: '' };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tally-lab-run-'));
    open.statePath = join(dir, 'open.json');
    capped.statePath = join(dir, 'capped.json');
    await labUp({ ...LAB_DEFAULTS, ...open });
    await labUp({ ...LAB_DEFAULTS, ...capped, conntrackMaxConnections: CAP });
  });

  after(async () => {
    await labDown(open);
    await labDown(capped);
    await rm(dir, { recursive: true, force: true });
  });

  /** `tally lab exec -- tally run <scenario>`, returning results.json. */
  async function runInLab(lab: { lab: string; statePath: string }, name: string, load: string): Promise<any> {
    const path = join(dir, `${name}.yaml`);
    await writeFile(path, `name: ${name}\nduration: 4s\nload: ${load}\n`);
    const out = join(dir, name);
    await promisify(execFile)(process.execPath, [CLI, 'lab', 'exec', '--lab', lab.lab, '--state', lab.statePath, '--', process.execPath, CLI, 'run', path, '--out', out], { timeout: 60_000 });
    return JSON.parse(await readFile(join(out, 'results.json'), 'utf8'));
  }

  test('churn through the VIP spreads over the backends within ±10% of uniform, read from each response', async (t) => {
    const r = await runInLab(open, 'spread', '{ executor: constant-arrival-rate, rate: 750, target: "http://10.203.1.1:80/", connection: { close: rst } }');
    const l = r.summary.load;
    t.diagnostic(JSON.stringify(l.endpointSpread));
    assert.equal(l.errors.total, 0);
    assert.equal(Object.keys(l.endpointSpread.backends).length, 3);
    assert.equal(Object.values(l.endpointSpread.backends as Record<string, number>).reduce((a, n) => a + n, 0), l.ok);
    assert.ok(l.endpointSpread.maxDeviationRatio <= 0.1, `deviation ${l.endpointSpread.maxDeviationRatio}`);
    // Counters come from the node namespace, where conntrack saw every connection.
    assert.equal(r.datapath.source, `netns:tally-${open.lab}-node`);
    assert.ok(r.datapath.gauges['conntrack.count'] !== undefined);
    assert.equal(r.findings.filter((f: any) => f.kind === 'syn_retransmit_signature').length, 0);
  });

  // 100 VUs each holding a connection for 50 requests keep about 100 connections live: more than the cap.
  const holding = '{ executor: constant-vus, vus: 100, target: "http://10.203.1.1:80/", requestsPerIteration: 50, connection: { reuse: per-iteration, close: rst, connectTimeout: 3s } }';

  test(`with the conntrack cap at ${CAP}, the run reports SYN drops and the cap's drop counter rises`, async (t) => {
    const before = await labStatus(capped);
    const r = await runInLab(capped, 'capped', holding);
    const afterStatus = await labStatus(capped);
    const l = r.summary.load;
    const syn = r.findings.find((f: any) => f.kind === 'syn_retransmit_signature')?.count ?? 0;
    const timeouts = l.errors.byClass.ETIMEDOUT ?? 0;
    t.diagnostic(`SYN-retransmit signature ${syn}, connect timeouts ${timeouts}, cap drops ${afterStatus.counters.capDrop.packets - before.counters.capDrop.packets}`);
    assert.ok(syn + timeouts > 0, 'the run saw no dropped SYN');
    assert.ok(afterStatus.counters.capDrop.packets > before.counters.capDrop.packets);
  });

  test('the same run without the cap reports no SYN drops', async () => {
    const before = await labStatus(open);
    const r = await runInLab(open, 'uncapped', holding);
    const afterStatus = await labStatus(open);
    assert.equal(r.summary.load.errors.total, 0);
    assert.equal(r.findings.filter((f: any) => f.kind === 'syn_retransmit_signature').length, 0);
    assert.equal(afterStatus.counters.capDrop.packets, before.counters.capDrop.packets);
  });
});
