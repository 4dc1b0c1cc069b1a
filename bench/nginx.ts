/**
 * A throwaway nginx (Debian's `nginx`, found on PATH) for self-benchmarks: a temp config on a
 * free 127.0.0.1 port, pid, logs and temp paths in a temp dir, always stopped by `stop()`.
 *
 * The config: `worker_processes` as asked (default 1, so nginx takes one core and the
 * load generator the other on a 2-core box); `keepalive_timeout 0`, so nginx closes every
 * connection after one response whatever the client asks — every peer pays one TCP
 * handshake per request and nginx does the same work for each; `return 200 "ok\n"`;
 * `access_log off`; and a `stub_status` location on a second port, whose `accepts` and
 * `requests` counters show from the server side how many connections and requests each
 * peer really made.
 *
 * @see https://nginx.org/en/docs/http/ngx_http_core_module.html#keepalive_timeout
 * @see https://nginx.org/en/docs/http/ngx_http_stub_status_module.html
 */
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CollectorError } from '../core/errors.ts';
import { findExecutable, freeLoopbackPort } from '../test/peers/process.ts';

/**
 * nginx on PATH (Debian's package puts it in an sbin directory, on root's PATH).
 * @throws CollectorError `TALLY_COLLECTOR_FAILED` when it is not installed.
 */
export async function nginxPath(): Promise<string> {
  const path = await findExecutable('nginx');
  if (path === undefined) throw new CollectorError('nginx not found on PATH: apt-get install nginx');
  return path;
}

/** nginx's server-side counters (stub_status). */
export interface NginxCounters {
  /** Connections accepted since start. */
  accepts: number;
  /** Requests answered since start. */
  requests: number;
}

/** A running nginx. */
export interface BenchNginx {
  port: number;
  workerProcesses: number;
  /** Read stub_status. @throws CollectorError when it cannot be read. */
  counters(): Promise<NginxCounters>;
  /** Stop nginx (SIGQUIT, then SIGKILL after 3 s) and remove the temp dir. */
  stop(): Promise<void>;
}

function config(dir: string, host: string, port: number, statusPort: number, workerProcesses: number): string {
  return `worker_processes ${workerProcesses};
daemon off;
master_process on;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
worker_rlimit_nofile 65536;
events { worker_connections 8192; multi_accept on; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  keepalive_timeout 0;
  server {
    listen ${host}:${port} backlog=4096;
    location / { default_type text/plain; return 200 "ok\\n"; }
  }
  server {
    listen ${host}:${statusPort};
    location / { stub_status; }
  }
}
`;
}

/**
 * Parse stub_status text (`Active connections: 1 \n server accepts handled requests\n 5 5 7 \n…`).
 * @throws CollectorError `TALLY_COLLECTOR_BAD_REPLY` when the counters line is missing.
 */
export function parseStubStatus(text: string): NginxCounters {
  const m = /server accepts handled requests\s*\n\s*(\d+)\s+(\d+)\s+(\d+)/.exec(text);
  if (m === null) throw new CollectorError('nginx stub_status: no counters line', { code: 'TALLY_COLLECTOR_BAD_REPLY', details: { text } });
  return { accepts: Number(m[1]), requests: Number(m[3]) };
}

/** Where nginx listens: by default a free port on 127.0.0.1 here; or a given address and port inside a network namespace. */
export interface NginxPlace {
  /** A named network namespace (`ip netns`) nginx runs in; its stub_status is then not reachable from here. */
  netns: string;
  host: string;
  port: number;
}

/** GET a URL from inside a network namespace (a short-lived node process there). @throws CollectorError when it fails. */
function fetchInNamespace(netns: string, url: string): Promise<string> {
  const script = `fetch(${JSON.stringify(url)}, { signal: AbortSignal.timeout(2000) }).then((r) => r.text()).then((t) => process.stdout.write(t), () => process.exit(1))`;
  return new Promise((resolve, reject) => {
    execFile('ip', ['netns', 'exec', netns, process.execPath, '-e', script], { timeout: 5000 }, (err, stdout) => {
      if (err !== null) reject(new CollectorError(`stub_status in ${netns}: ${err.message}`, { cause: err }));
      else resolve(String(stdout));
    });
  });
}

/** Whether something listens on `port` inside `netns` (`ss`, iproute2). */
async function listeningIn(netns: string, port: number): Promise<boolean> {
  const out = await new Promise<string>((resolve) => {
    execFile('ip', ['netns', 'exec', netns, 'ss', '-Hltn', `sport = :${port}`], { timeout: 2000 }, (_err, stdout) => resolve(String(stdout ?? '')));
  });
  return out.trim().length > 0;
}

/**
 * Start nginx and wait until it answers.
 * @param workerProcesses nginx worker processes (1 or 2 on a 2-core box).
 * @param place a network namespace, address and port to listen on (the accuracy bench); default a free loopback port here.
 * @throws CollectorError `TALLY_COLLECTOR_FAILED` when nginx is missing or does not come up in 5 s.
 */
export async function startNginx(workerProcesses = 1, place?: NginxPlace): Promise<BenchNginx> {
  const nginx = await nginxPath();
  const dir = await mkdtemp(join(tmpdir(), 'tally-bench-nginx-'));
  const port = place?.port ?? (await freeLoopbackPort());
  const statusPort = place === undefined ? await freeLoopbackPort() : place.port + 1;
  await writeFile(join(dir, 'nginx.conf'), config(dir, place?.host ?? '127.0.0.1', port, statusPort, workerProcesses));
  const argv = [nginx, '-p', dir, '-c', join(dir, 'nginx.conf'), '-e', join(dir, 'error.log')];
  // `ip netns exec` execs nginx in place: the child is nginx's master, signalled as usual.
  const command = place === undefined ? argv : ['ip', 'netns', 'exec', place.netns, ...argv];
  const child = spawn(command[0], command.slice(1), { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  let running = true;
  void exited.then(() => (running = false));
  const stop = async (): Promise<void> => {
    if (running) {
      child.kill('SIGQUIT');
      const t = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(t);
    }
    await rm(dir, { recursive: true, force: true });
  };
  const counters = async (): Promise<NginxCounters> => {
    if (place !== undefined) return parseStubStatus(await fetchInNamespace(place.netns, `http://${place.host}:${statusPort}/`));
    const res = await fetch(`http://127.0.0.1:${statusPort}/`, { signal: AbortSignal.timeout(2000) });
    return parseStubStatus(await res.text());
  };
  for (let i = 0; i < 100; i++) {
    if (!running) break;
    try {
      if (place === undefined) await counters();
      else if (!(await listeningIn(place.netns, port))) throw new Error('not listening yet');
      return { port, workerProcesses, counters, stop };
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  const log = await readFile(join(dir, 'error.log'), 'utf8').catch(() => '');
  await stop();
  throw new CollectorError(`nginx did not come up: ${stderr}${log}`.trim(), { details: { port } });
}
