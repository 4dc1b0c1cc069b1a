/**
 * A hostile OTLP/HTTP client, run as a process of its own by the stand-in tests:
 * `node otlp-flood.ts <url> <body-file> <concurrency>` posts the body to `<url>/v1/metrics`
 * over and over, `concurrency` requests at a time, until it is killed. The body is decoded
 * in full by the receiver and placed nowhere: the receiver's own work is what it costs.
 */
import { readFileSync } from 'node:fs';
import { Pool } from 'undici';

const [url, bodyFile, concurrencyText] = process.argv.slice(2);
const body = readFileSync(bodyFile);
const pool = new Pool(url, { connections: Number(concurrencyText) });
let sent = 0;

async function lane(): Promise<never> {
  for (;;) {
    try {
      const res = await pool.request({ path: '/v1/metrics', method: 'POST', headers: { 'content-type': 'application/x-protobuf' }, body });
      await res.body.dump();
      sent++;
    } catch {
      await new Promise((r) => setTimeout(r, 10));
    }
  }
}

process.on('SIGTERM', () => {
  process.stdout.write(`${sent}\n`);
  process.exit(0);
});
for (let i = 0; i < Number(concurrencyText); i++) void lane();
