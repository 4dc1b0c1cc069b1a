import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, request as httpRequest, type Server } from 'node:http';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PrometheusApi } from '../../../readback/prometheus/api.ts';
import { TallyError } from '../../../core/errors.ts';
import { startPrometheus, type PrometheusServer } from '../../peers/prometheus.ts';

function code(error: unknown): string | undefined {
  return error instanceof TallyError ? error.code : undefined;
}
/** Everything an error could leak through: message, serialised form, stack, cause. */
function everything(error: unknown): string {
  const e = error as TallyError;
  return [e.message, JSON.stringify(e.toJSON?.()), String(e.stack), JSON.stringify(e.cause ?? null), String(e)].join('\n');
}

// Prometheus 2.42's web config wants bcrypt hashes for basic auth, so the credential check
// is a tiny reverse proxy in front of the real Prometheus. When refusing, it echoes the
// Authorization header it got (a hostile proxy), so redaction is tested on real text.
describe('PrometheusApi credentials through an authenticating proxy in front of a real Prometheus', { timeout: 120_000 }, () => {
  let prometheus: PrometheusServer;
  let proxy: Server;
  let proxyUrl = '';
  let dir = '';
  let accepted = new Set<string>();
  const seen: { authorization?: string; org?: string }[] = [];

  before(async () => {
    prometheus = await startPrometheus();
    dir = await mkdtemp(join(tmpdir(), 'tally-api-auth-'));
    const upstream = new URL(prometheus.url);
    proxy = createServer((req, res) => {
      const authorization = req.headers.authorization;
      seen.push({ authorization, org: req.headers['x-scope-orgid'] as string | undefined });
      if (authorization === undefined || !accepted.has(authorization)) {
        req.resume();
        res.writeHead(401, { 'content-type': 'text/plain', 'www-authenticate': 'Bearer' });
        res.end(`unauthorized; you sent: ${authorization ?? '(nothing)'}`);
        return;
      }
      const headers = { ...req.headers };
      delete headers.authorization;
      const forward = httpRequest({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers }, (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      });
      forward.on('error', () => res.destroy());
      req.pipe(forward);
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    proxyUrl = `http://127.0.0.1:${(proxy.address() as { port: number }).port}`;
  });
  after(async () => {
    await new Promise<void>((resolve) => proxy?.close(() => resolve()));
    await prometheus?.stop();
    if (dir !== '') await rm(dir, { recursive: true, force: true });
  });

  test('bearer token from a file: accepted, re-read per request (rotation needs no restart)', async () => {
    const file = join(dir, 'token');
    await writeFile(file, 'tok-first-5f1e2d\n');
    accepted = new Set(['Bearer tok-first-5f1e2d']);
    const api = new PrometheusApi({ url: proxyUrl, auth: { bearerTokenFile: file, headers: { 'X-Scope-OrgID': 'tenant-a' } } });
    assert.match((await api.buildInfo()).data.version, /^2\./);
    assert.deepEqual(seen.at(-1), { authorization: 'Bearer tok-first-5f1e2d', org: 'tenant-a' });
    await writeFile(file, 'tok-second-9a8b7c');
    accepted = new Set(['Bearer tok-second-9a8b7c']);
    assert.equal((await api.query('vector(1)', Date.now())).data.resultType, 'vector');
    assert.equal(seen.at(-1)?.authorization, 'Bearer tok-second-9a8b7c');
    await api.close();
  });

  test('without credentials: a clear 401 failure', async () => {
    accepted = new Set(['Bearer something-else']);
    const api = new PrometheusApi({ url: proxyUrl, maxRetries: 0 });
    await assert.rejects(api.buildInfo(), (e: unknown) => {
      const d = (e as TallyError).details as { httpStatus: number };
      return code(e) === 'TALLY_COLLECTOR_FAILED' && d.httpStatus === 401 && /unauthorized/.test((e as Error).message);
    });
    await api.close();
  });

  test('a refused bearer token never appears in the error, even when the server echoes it', async () => {
    const file = join(dir, 'stale-token');
    await writeFile(file, 'stale-token-c0ffee-77');
    accepted = new Set(['Bearer fresh-token']);
    const api = new PrometheusApi({ url: proxyUrl, auth: { bearerTokenFile: file } });
    let caught: unknown;
    await api.query('up', Date.now()).catch((e: unknown) => (caught = e));
    await api.close();
    assert.equal(seen.at(-1)?.authorization, 'Bearer stale-token-c0ffee-77', 'the proxy did receive (and echo) the token');
    assert.equal(code(caught), 'TALLY_COLLECTOR_FAILED');
    assert.match(everything(caught), /\[REDACTED\]/);
    assert.doesNotMatch(everything(caught), /c0ffee/);
  });

  test('basic auth with the password from the environment: accepted; refused ones are redacted (password and base64)', async () => {
    process.env.TALLY_TEST_PROM_PASSWORD = 'pa55-w0rd-e1e2';
    const good = `Basic ${Buffer.from('reader:pa55-w0rd-e1e2').toString('base64')}`;
    accepted = new Set([good]);
    const api = new PrometheusApi({ url: proxyUrl, auth: { basic: { username: 'reader', passwordEnv: 'TALLY_TEST_PROM_PASSWORD' } } });
    assert.equal((await api.series(['up'])).data.length, 0);
    assert.equal(seen.at(-1)?.authorization, good);
    accepted = new Set();
    let caught: unknown;
    await api.buildInfo().catch((e: unknown) => (caught = e));
    await api.close();
    const text = everything(caught);
    assert.equal(code(caught), 'TALLY_COLLECTOR_FAILED');
    assert.doesNotMatch(text, /pa55-w0rd/);
    assert.ok(!text.includes(Buffer.from('reader:pa55-w0rd-e1e2').toString('base64')));
    delete process.env.TALLY_TEST_PROM_PASSWORD;
  });

  test('basic auth with the password from a file; secret-named custom headers are redacted too', async () => {
    const file = join(dir, 'password');
    await writeFile(file, 'file-pass-4d4d\n');
    accepted = new Set();
    const api = new PrometheusApi({ url: proxyUrl, auth: { basic: { username: 'u', passwordFile: file }, headers: { 'X-Api-Key': 'key-value-3e3e3e' } } });
    let caught: unknown;
    await api.buildInfo().catch((e: unknown) => (caught = e));
    await api.close();
    assert.equal(seen.at(-1)?.authorization, `Basic ${Buffer.from('u:file-pass-4d4d').toString('base64')}`);
    assert.ok(!everything(caught).includes(Buffer.from('u:file-pass-4d4d').toString('base64')));
    assert.equal(api.redact('echo key-value-3e3e3e and file-pass-4d4d'), 'echo [REDACTED] and [REDACTED]');
  });

  test('credential configuration errors name the JSON pointer', async () => {
    assert.throws(
      () => new PrometheusApi({ url: proxyUrl, auth: { bearerTokenFile: '/x', basic: { username: 'u', passwordEnv: 'X' } } }),
      (e: unknown) => code(e) === 'TALLY_CONFIG_INVALID',
    );
    assert.throws(
      () => new PrometheusApi({ url: proxyUrl, auth: { basic: { username: 'u' } } }),
      (e: unknown) => code(e) === 'TALLY_CONFIG_INVALID' && JSON.stringify((e as TallyError).details).includes('/backends/prometheus/auth/basic'),
    );
    const api = new PrometheusApi({ url: proxyUrl, auth: { bearerTokenFile: join(dir, 'missing') } });
    await assert.rejects(api.buildInfo(), (e: unknown) => code(e) === 'TALLY_CONFIG_UNREADABLE' && JSON.stringify((e as TallyError).details).includes('/backends/prometheus/auth/bearerTokenFile'));
    await api.close();
  });
});
