/**
 * Non-root refusal, for real: every `tally lab` subcommand, run as user nobody (65534)
 * when the test runs as root (as in CI), or as the current user when it does not, exits 2
 * with a message naming root and creates nothing. The child loads its modules first and
 * only then drops to nobody (setgroups, setgid, setuid): a checkout under a 0700
 * directory (mktemp -d) is not readable by nobody, and the refusal is what is under test. The child runs
 * `labCommand` with bin/tally.ts's error mapping (ConfigError → 2 via exitCodeFor).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { listNamespaces } from '../../lab/netns.ts';

const ROOT = process.geteuid?.() === 0;
const LAB = `p${process.pid}`;

const CLI_SHIM = `
const { labCommand } = await import(process.argv[1]);
const { exitCodeFor } = await import(process.argv[2]);
if (process.getuid() === 0) { process.setgroups([]); process.setgid(65534); process.setuid(65534); }
if (process.geteuid() === 0) throw new Error('still root');
try { process.exitCode = await labCommand(process.argv.slice(3), process.stdout); }
catch (e) { process.stderr.write('error: ' + e.message + '\\n'); process.exitCode = exitCodeFor(e); }
`;
const LAB_TS = new URL('../../bin/commands/lab.ts', import.meta.url).pathname;
const ERRORS_TS = new URL('../../core/errors.ts', import.meta.url).pathname;

function runUnprivileged(args: string[]): Promise<{ code: number; stderr: string }> {
  const node = [process.execPath, '--input-type=module', '-e', CLI_SHIM, LAB_TS, ERRORS_TS, ...args];
  return new Promise((resolve) => {
    execFile(node[0], node.slice(1), { timeout: 20_000, cwd: '/' }, (error, _stdout, stderr) => {
      resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : -1, stderr });
    });
  });
}

test(`every lab subcommand refuses without root: exit 2, message names root (${ROOT ? 'as nobody' : 'as the current user'})`, async () => {
  const state = ['--lab', LAB, '--state', `/nonexistent-${LAB}/state.json`];
  for (const args of [['up', ...state], ['down', ...state], ['status', ...state], ['exec', ...state, '--', 'true']]) {
    const { code, stderr } = await runUnprivileged(args);
    assert.equal(code, 2, `${args[0]}: ${stderr}`);
    assert.match(stderr, /needs root/, args[0]);
  }
  if (ROOT) assert.deepEqual((await listNamespaces()).filter((n) => n.startsWith(`tally-${LAB}-`)), []);
});
