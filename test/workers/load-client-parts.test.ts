/** Parts of the load client: the coarse timeout wheel, the byte-level HTTP head parser, the tcp-crr backend line. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { emptyHead, findHeadEnd, parseHeadInto } from '../../workers/http1-head.ts';
import { performance } from 'node:perf_hooks';
import { crrBackend } from '../../workers/tcp-crr.ts';
import { TimeoutWheel } from '../../workers/timeout-wheel.ts';

function parse(text: string, isHead = false): ReturnType<typeof emptyHead> {
  const buf = Buffer.from(text, 'latin1');
  const end = findHeadEnd(buf, 0, buf.length);
  assert.notEqual(end, -1);
  const out = emptyHead();
  parseHeadInto(buf, 0, end, isHead, out);
  return out;
}

test('the byte parser reads status, framing, Connection: close and the backend header in any case', () => {
  assert.deepEqual(parse('HTTP/1.1 200 OK\r\nX-TALLY-BACKEND:  be-3 \r\nContent-Length: 12\r\nConnection: Close\r\n\r\nbody'), {
    status: 200,
    contentLength: 12,
    chunked: false,
    connectionClose: true,
    backend: 'be-3',
    framingError: false,
  });
  assert.equal(parse('HTTP/1.1 200 OK\r\ntransfer-encoding: gzip, chunked\r\ncontent-length: 3\r\n\r\n').chunked, true);
  assert.equal(parse('HTTP/1.1 200 OK\r\ntransfer-encoding: gzip, chunked\r\ncontent-length: 3\r\n\r\n').contentLength, -1);
  assert.equal(parse('HTTP/1.1 200 OK\r\ncontent-length: 1x\r\n\r\n').contentLength, -1);
  // An unreadable or conflicting length is a framing error (not "until close"); chunked overrides a length.
  assert.equal(parse('HTTP/1.1 200 OK\r\ncontent-length: 1x\r\n\r\n').framingError, true);
  assert.equal(parse('HTTP/1.1 200 OK\r\ncontent-length: zz\r\n\r\n').framingError, true);
  assert.equal(parse('HTTP/1.1 200 OK\r\ncontent-length:\r\n\r\n').framingError, true);
  assert.equal(parse('HTTP/1.1 200 OK\r\ncontent-length: 2\r\ncontent-length: 3\r\n\r\n').framingError, true);
  assert.equal(parse('HTTP/1.1 200 OK\r\ncontent-length: 2\r\ncontent-length: 2\r\n\r\n').framingError, false);
  assert.equal(parse('HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\ncontent-length: zz\r\n\r\n').framingError, false);
  assert.equal(parse('HTTP/1.1 200 OK\r\n\r\n').framingError, false);
  assert.equal(parse('HTTP/1.1 200 OK\r\ncontent-lengthx: 5\r\n\r\n').contentLength, -1);
  assert.equal(parse('HTTP/1.1 304 Not Modified\r\ncontent-length: 5\r\n\r\n').contentLength, 0);
  assert.equal(parse('HTTP/1.1 2x0 OK\r\n\r\n').status, 0);
  assert.equal(parse('HTTP/1.1 200 OK\r\nx-tally-backendx: no\r\n\r\n').backend, undefined);
});

test('findHeadEnd stops at the bytes read, not the buffer length', () => {
  const buf = Buffer.from('HTTP/1.1 200 OK\r\n\r\n', 'latin1');
  assert.equal(findHeadEnd(buf, 0, buf.length - 1), -1);
  assert.equal(findHeadEnd(buf, 0, buf.length), buf.length - 4);
});

test('crrBackend takes a leading NAME line and nothing else', () => {
  assert.equal(crrBackend(Buffer.from('be-1\nxxxx'), 9), 'be-1');
  assert.equal(crrBackend(Buffer.from('xxxxxxxx'), 8), undefined);
  assert.equal(crrBackend(Buffer.from('be 1\nxx'), 7), undefined);
  assert.equal(crrBackend(Buffer.from('be-1\nxx'), 3), undefined);
  assert.equal(crrBackend(Buffer.from(`${'a'.repeat(40)}\n`), 41), undefined);
});

test('the wheel fires a passed deadline once, within a tick or so, and not a disarmed or moved one', async () => {
  const wheel = new TimeoutWheel(10);
  const fired: string[] = [];
  const now = performance.now();
  const due = { deadlineMs: now + 20, onDeadline: () => fired.push('due') };
  const disarmed = { deadlineMs: now + 20, onDeadline: () => fired.push('disarmed') };
  const moved = { deadlineMs: now + 20, onDeadline: () => fired.push('moved') };
  wheel.arm(due);
  wheel.arm(disarmed);
  wheel.arm(moved);
  wheel.disarm(disarmed);
  moved.deadlineMs = now + 10_000;
  await new Promise((r) => setTimeout(r, 150));
  assert.deepEqual(fired, ['due']);
  assert.equal(wheel.size, 1);
  wheel.disarm(moved);
  assert.equal(wheel.size, 0);
});
