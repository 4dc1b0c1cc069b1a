/**
 * `tally sweep` flags: each bad one is refused before anything runs, with TALLY_USAGE and
 * the flag's pointer; every wait and retry has an upper bound.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sweepCommand } from '../../bin/commands/sweep.ts';
import { ConfigError } from '../../core/errors.ts';

const BASE = ['scenarios/smoke.yaml', '--vary', 'load.rate', '--from', '100', '--to', '200'];

test('bad or unbounded flags are refused with the flag named', async () => {
  const out = { write: () => true };
  const cases: [string[], string][] = [
    [['--retry-limited', '1000000'], '/retry-limited'],
    [['--retry-limited', '2.5'], '/retry-limited'],
    [['--drain-max', '2h'], '/drain-max'],
    [['--drain-max', 'soon'], '/drain-max'],
    [['--cooldown', '61m'], '/cooldown'],
    [['--drain-below', '0'], '/drain-below'],
  ];
  for (const [flags, pointer] of cases) {
    await assert.rejects(sweepCommand([...BASE, ...flags], out), (e: unknown) => {
      assert.ok(e instanceof ConfigError, String(e));
      assert.equal(e.code, 'TALLY_USAGE');
      assert.deepEqual(e.problems.map((p) => p.pointer), [pointer], flags.join(' '));
      return true;
    });
  }
  await assert.rejects(sweepCommand(['scenarios/smoke.yaml', '--from', '1', '--to', '2'], out), (e: unknown) => e instanceof ConfigError && e.problems[0]?.pointer === '/vary');
});
