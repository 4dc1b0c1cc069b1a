/**
 * `tally plan` flags: a calibration target that is not a URL, or a calibration size without
 * a target, is bad input (exit 2, the flag's pointer), refused before anything is sent.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const TALLY = fileURLToPath(new URL('../../bin/tally.ts', import.meta.url));
const SMOKE = fileURLToPath(new URL('../../scenarios/smoke.yaml', import.meta.url));

test('bad calibration flags exit 2 naming the flag', () => {
  const cases: [string[], string][] = [
    [['--calibrate', 'notaurl'], '/calibrate: must be a Prometheus base URL'],
    [['--calibrate', 'ftp://127.0.0.1:9090'], '/calibrate: must be a Prometheus base URL'],
    [['--calibrate-series', '500'], '/calibrate-series: needs --calibrate'],
    [['--calibrate', 'http://127.0.0.1:9', '--calibrate-series', '2000000'], '/calibrate-series: must be at most 1000000'],
  ];
  for (const [flags, expected] of cases) {
    const r = spawnSync(process.execPath, [TALLY, 'plan', SMOKE, ...flags], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(r.status, 2, `${flags.join(' ')}: ${r.stderr}`);
    assert.ok(r.stderr.includes(expected), `${flags.join(' ')}: ${r.stderr}`);
  }
});
