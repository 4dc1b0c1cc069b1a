/**
 * Real kernel, as root: a failed `up` removes what it built; `down` without a state file
 * (after a crashed `up`) removes exactly this lab's namespaces and no look-alikes.
 * Skipped when not root; after() deletes every namespace the tests created.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CollectorError, ConfigError } from '../../core/errors.ts';
import { labDown, labUp } from '../../lab/lifecycle.ts';
import { deleteNamespaces, listNamespaces, runTool } from '../../lab/netns.ts';
import { planDownSteps } from '../../lab/steps.ts';
import { LAB_DEFAULTS } from '../../lab/topology.ts';

const ROOT = process.geteuid?.() === 0;
const FAILING = `f${process.pid}`;
const CRASHED = `r${process.pid}`;
/** Carries CRASHED's prefix but is no name `up` creates: `down` must not touch it. */
const LOOKALIKE = `tally-${CRASHED}-keep`;

async function labNamespaces(lab: string): Promise<string[]> {
  return (await listNamespaces()).filter((n) => n.startsWith(`tally-${lab}-`)).sort();
}

describe('tally lab recovery (real namespaces)', { skip: ROOT ? false : 'needs root (CI runs as root)' }, () => {
  const dirs: string[] = [];

  after(async () => {
    for (const lab of [FAILING, CRASHED]) await deleteNamespaces(planDownSteps(await labNamespaces(lab)));
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  test('up that fails midway (backend node binary missing) fails with TALLY_COLLECTOR_FAILED and leaves nothing behind', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tally-lab-fail-'));
    dirs.push(dir);
    const statePath = join(dir, 'state.json');
    await assert.rejects(
      labUp({ ...LAB_DEFAULTS, lab: FAILING, backends: 2, statePath, nodePath: '/nonexistent/node', readyTimeoutMs: 500 }),
      (e: unknown) => e instanceof CollectorError && e.code === 'TALLY_COLLECTOR_FAILED' && Array.isArray((e.details as { command?: unknown }).command),
    );
    assert.deepEqual(await labNamespaces(FAILING), []);
    assert.ok(!existsSync(statePath), 'no state file after a failed up');
  });

  test('down without a state file removes exactly the lab namespaces left by a crashed up', async () => {
    const leftovers = [`tally-${CRASHED}-node`, `tally-${CRASHED}-client`, `tally-${CRASHED}-be0`];
    for (const ns of [...leftovers, LOOKALIKE]) await runTool(['ip', 'netns', 'add', ns]);
    const dir = await mkdtemp(join(tmpdir(), 'tally-lab-crash-'));
    dirs.push(dir);
    await assert.rejects(labUp({ ...LAB_DEFAULTS, lab: CRASHED, statePath: join(dir, 'state.json') }), (e: unknown) => e instanceof ConfigError && e.code === 'TALLY_USAGE');
    const report = await labDown({ lab: CRASHED, statePath: join(dir, 'state.json') });
    assert.deepEqual([...report.namespacesDeleted].sort(), [...leftovers].sort());
    assert.equal(report.stateFileRemoved, false);
    assert.deepEqual(await labNamespaces(CRASHED), [LOOKALIKE], 'matched by exact name, not by prefix alone');
  });
});
