/**
 * The remote-write sender's classification of answers: only a 4xx other than 429 is a
 * refusal (classified by its body); a 5xx or a 429 is the receiver failing or throttling,
 * retryable, and no refusal. Real HTTP on loopback.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { RemoteWriteSender } from '../../workers/remote-write-sender.ts';
import { backendsSection } from '../../reports/results-backends.ts';

async function answering(status: number, body: string): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(status, { 'content-type': 'text/plain' }).end(body));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v1/write`, server };
}

const CASES: { status: number; body: string; ok: boolean; retryable: boolean; rejection: string | undefined }[] = [
  { status: 204, body: '', ok: true, retryable: false, rejection: undefined },
  { status: 400, body: 'out of order sample', ok: false, retryable: false, rejection: 'out_of_order' },
  { status: 400, body: 'something else', ok: false, retryable: false, rejection: 'other' },
  { status: 500, body: 'internal error', ok: false, retryable: true, rejection: undefined },
  { status: 503, body: 'unavailable', ok: false, retryable: true, rejection: undefined },
  { status: 429, body: 'slow down', ok: false, retryable: true, rejection: undefined },
];

for (const c of CASES) {
  test(`HTTP ${c.status} "${c.body}": ok ${c.ok}, retryable ${c.retryable}, refusal ${c.rejection ?? 'none'}`, async () => {
    const { url, server } = await answering(c.status, c.body);
    const sender = new RemoteWriteSender({ url });
    try {
      const outcome = await sender.send([{ name: 'up', labels: {}, samples: [{ value: 1, timestampMs: 1 }] }]);
      assert.equal(outcome.status, c.status);
      assert.equal(outcome.ok, c.ok);
      assert.equal(outcome.retryable, c.retryable);
      assert.equal(outcome.rejection, c.rejection);
    } finally {
      await sender.close();
      await new Promise((r) => server.close(r));
    }
  });
}

test('a sender that fell behind its schedule is a finding: requests sent more than an export interval after their tick', () => {
  const base = { url: 'http://x/api/v1/write', requests: 10, rejections: {}, statuses: { 204: 10 } };
  const behind = backendsSection({ remoteWrite: { ...base, sendLag: { maxMs: 28_900, requestsLate: 7, lateAfterMs: 5000 } } });
  assert.equal(behind.findings.find((f) => f.kind === 'remote_write_sender_behind')?.count, 7);
  const onTime = backendsSection({ remoteWrite: { ...base, sendLag: { maxMs: 3, requestsLate: 0, lateAfterMs: 5000 } } });
  assert.equal(onTime.findings.some((f) => f.kind === 'remote_write_sender_behind'), false);
});

test('failed remote-write requests are findings by what happened: refused (4xx), server error (5xx), throttled (429), no answer', () => {
  const { findings } = backendsSection({ remoteWrite: { url: 'http://x/api/v1/write', requests: 10, rejections: { out_of_order: 1 }, statuses: { 204: 4, 400: 1, 500: 2, 503: 1, 429: 1, 0: 1 } } });
  const kinds = Object.fromEntries(findings.map((f) => [f.kind, f.count]));
  assert.deepEqual(kinds, { remote_write_rejected_out_of_order: 1, remote_write_server_errors: 3, remote_write_throttled: 1, remote_write_no_answer: 1 });
});
