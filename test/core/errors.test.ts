/**
 * One error hierarchy across threads: an error that crosses a worker boundary comes back
 * with its class, code and details; an errno error (ECONNREFUSED, ENOSPC) is a runtime
 * failure with its errno and cause, never "this is a bug"; exit codes follow the class.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MessageChannel } from 'node:worker_threads';
import { connect } from 'node:net';
import { asTallyError, ConfigError, exitCodeFor, InternalError, IoError, reviveError, WorkerError } from '../../core/errors.ts';

/** Send a value through a real MessagePort (structured clone, as a worker's report is). */
async function throughPort(value: unknown): Promise<unknown> {
  const { port1, port2 } = new MessageChannel();
  const received = new Promise<unknown>((resolve) => port2.once('message', resolve));
  port1.postMessage(value);
  const out = await received;
  port1.close();
  return out;
}

/** A real ECONNREFUSED from node:net (nothing listens on port 1 of loopback). */
async function refused(): Promise<Error> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port: 1 });
    s.on('error', resolve);
  });
}

test('an errno error thrown in a worker comes back classified, with its errno, syscall and cause', async () => {
  const original = await refused();
  assert.equal((original as NodeJS.ErrnoException).code, 'ECONNREFUSED');
  const sent = asTallyError(original, 'shard 1 failed');
  assert.ok(sent instanceof IoError);
  const revived = reviveError(await throughPort(sent.toJSON()));
  assert.ok(revived instanceof IoError);
  assert.equal(revived.code, 'TALLY_IO_FAILED');
  assert.deepEqual({ errno: (revived.details as Record<string, unknown>).errno, syscall: (revived.details as Record<string, unknown>).syscall }, { errno: 'ECONNREFUSED', syscall: 'connect' });
  assert.equal((revived.cause as NodeJS.ErrnoException).code, 'ECONNREFUSED');
  assert.equal(exitCodeFor(revived), 1);
});

test('an errno error is classified where it is thrown: structured clone would drop its code', async () => {
  const cloned = await throughPort(Object.assign(new Error('disk full'), { code: 'ENOSPC' }));
  // postMessage keeps an Error's message, not its own properties: the shard must classify first.
  assert.equal((cloned as { code?: unknown }).code, undefined);
  assert.ok(reviveError(cloned) instanceof InternalError);
  const local = reviveError(Object.assign(new Error('disk full'), { code: 'ENOSPC', path: 'runs/x/results.json' }));
  assert.ok(local instanceof IoError);
  assert.deepEqual(local.details, { errno: 'ENOSPC', path: 'runs/x/results.json' });
});

test('serialized TallyErrors get their class back; unknown shapes are internal errors', async () => {
  const config = reviveError(await throughPort(new ConfigError('bad', [{ pointer: '/load/rate', message: 'must be > 0' }]).toJSON()));
  assert.ok(config instanceof ConfigError);
  assert.deepEqual(config.problems, [{ pointer: '/load/rate', message: 'must be > 0' }]);
  assert.equal(exitCodeFor(config), 2);
  const worker = reviveError(await throughPort(new WorkerError('shard 0 died', { details: { shard: 0 } }).toJSON()));
  assert.ok(worker instanceof WorkerError);
  assert.deepEqual(worker.details, { shard: 0 });
  assert.ok(reviveError(await throughPort(new TypeError('x is undefined'))) instanceof InternalError);
  assert.ok(reviveError('a string') instanceof InternalError);
});
