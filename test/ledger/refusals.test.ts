import { test } from 'node:test';
import assert from 'node:assert/strict';
import { REFUSAL_MESSAGE_CHARS, RefusalTally, refusalLabel } from '../../ledger/refusals.ts';

const FLAGS = 'unknown field "flags" in v1.Span';

test('a failed request with an answer is a refusal kept by status and message; successes, drops and transport errors are not', () => {
  const tally = new RefusalTally();
  for (let i = 0; i < 3; i++) tally.record({ finalState: 'failed', status: 400, message: FLAGS, items: 5 });
  tally.record({ finalState: 'failed', status: 503, message: 'data refused due to high memory usage', items: 7 });
  tally.record({ finalState: 'failed', status: 0, grpcCode: 8, message: 'resource exhausted', items: 2 });
  tally.record({ finalState: 'failed', status: 0, message: 'connect ECONNREFUSED', items: 9 });
  tally.record({ finalState: 'acknowledged', status: 200, items: 9 });
  tally.record({ finalState: 'dropped', status: 0, items: 9 });
  tally.record({ finalState: 'failed', status: 0, grpcCode: 0, items: 9 });
  const s = tally.summary();
  assert.deepEqual(s.reasons, [
    { status: 400, message: FLAGS, requests: 3, items: 15 },
    { status: 0, grpcCode: 8, message: 'resource exhausted', requests: 1, items: 2 },
    { status: 503, message: 'data refused due to high memory usage', requests: 1, items: 7 },
  ]);
  assert.equal(s.otherRequests, 0);
  assert.equal(refusalLabel(s.reasons[0]), `HTTP 400: ${FLAGS}`);
  assert.equal(refusalLabel(s.reasons[1]), 'gRPC 8: resource exhausted');
  assert.equal(refusalLabel({ status: 429, message: '' }), 'HTTP 429 (no message)');
});

test('distinct reasons are capped; the rest is counted under other; long messages are cut', () => {
  const tally = new RefusalTally(2);
  tally.record({ finalState: 'failed', status: 400, message: 'x'.repeat(1000), items: 1 });
  tally.record({ finalState: 'failed', status: 400, message: 'b', items: 1 });
  tally.record({ finalState: 'failed', status: 400, message: 'c', items: 4 });
  tally.record({ finalState: 'failed', status: 400, message: 'b', items: 1 });
  const s = tally.summary();
  assert.equal(s.reasons.length, 2);
  assert.equal(s.reasons[0].message, 'b');
  assert.equal(s.reasons[1].message.length, REFUSAL_MESSAGE_CHARS);
  assert.deepEqual([s.otherRequests, s.otherItems], [1, 4]);
  assert.equal(new RefusalTally().empty, true);
});
