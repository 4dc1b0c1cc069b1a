/**
 * `npm run bench -- output`: the measurement output's cost on the load, in one run of this
 * bench. The same scenario (constant arrival rate on the embedded target, OTLP telemetry to
 * the embedded receiver) runs without an output, with remote write into a live Prometheus 3,
 * with OTLP into it, and with an endpoint that accepts connections and never answers (every
 * request times out), in alternating order over `--rounds` rounds; each mode's achieved
 * rate, latency p99, late-start ratio and telemetry points acknowledged are the medians.
 *
 * Flags: `--rate N` (default 1000/s), `--seconds N` (default 8), `--rounds N` (default 2).
 */
import { createServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { runScenario } from '../pipeline/run.ts';
import { startPrometheus3 } from '../test/peers/prometheus3.ts';

const quiet = { write: () => true, isTTY: false as const };
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];

function scenario(rate: number, seconds: number, outputs: string): string {
  return `
name: output-overhead
seed: 5
duration: ${seconds}s
load:
  executor: constant-arrival-rate
  rate: ${rate}
  maxInFlight: 512
  connection: { reuse: never, close: rst, connectTimeout: 2s }
telemetry:
  exportInterval: 1s
  metrics:
    - { name: app.requests, instrument: counter, attributes: { route: 20, status: 5, pod: 10 } }
reconcile: { settle: 500ms }
${outputs === '' ? '' : `outputs:\n${outputs}`}
`;
}

/** Run the bench. */
export async function outputBench(argv: string[]): Promise<unknown> {
  const { values } = parseArgs({ args: argv, options: { rate: { type: 'string' }, seconds: { type: 'string' }, rounds: { type: 'string' } } });
  const rate = Number(values.rate ?? 1000);
  const seconds = Number(values.seconds ?? 8);
  const rounds = Number(values.rounds ?? 2);
  const prom = await startPrometheus3();
  const held: Socket[] = [];
  const blackHole = createServer((s) => held.push(s));
  await new Promise<void>((r) => blackHole.listen(0, '127.0.0.1', r));
  const holeUrl = `http://127.0.0.1:${(blackHole.address() as AddressInfo).port}/api/v1/write`;
  const modes: Record<string, string> = {
    none: '',
    'prometheus-remote-write': `  - { type: prometheus-remote-write, url: ${prom.remoteWriteUrl} }`,
    otlp: `  - { type: otlp, url: ${prom.otlpUrl} }`,
    'never-answers': `  - { type: prometheus-remote-write, url: ${holeUrl}, timeout: 2s, drainTimeout: 2s }`,
  };
  const seen: Record<string, { rate: number[]; p99Us: number[]; lateStartRatio: number[]; pointsAcknowledgedRatio: number[]; outputs: unknown[] }> = {};
  try {
    const dir = await mkdtemp(join(tmpdir(), 'tally-bench-output-'));
    for (let round = 0; round < rounds; round++) {
      const order = round % 2 === 0 ? Object.keys(modes) : Object.keys(modes).reverse();
      for (const mode of order) {
        const path = join(dir, `${mode}-${round}.yaml`);
        await writeFile(path, scenario(rate, seconds, modes[mode]));
        const { results } = await runScenario({ scenarioPath: path, outDir: join(dir, `${mode}-${round}`), stdout: quiet, handleSignals: false });
        const s = (seen[mode] ??= { rate: [], p99Us: [], lateStartRatio: [], pointsAcknowledgedRatio: [], outputs: [] });
        s.rate.push(results.summary.load.achievedRatePerSecond);
        s.p99Us.push(results.summary.load.latencyUs.p99);
        s.lateStartRatio.push(results.generator.lateStartRatio);
        s.pointsAcknowledgedRatio.push(results.summary.metrics.pointsAcknowledged / results.summary.metrics.pointsSent);
        if (results.measurementOutputs) s.outputs.push(results.measurementOutputs[0]);
      }
    }
  } finally {
    for (const s of held) s.destroy();
    blackHole.close();
    await prom.stop();
  }
  const base = seen.none;
  return {
    bench: 'output',
    targetRatePerSecond: rate,
    seconds,
    rounds,
    modes: Object.fromEntries(Object.entries(seen).map(([mode, s]) => [mode, {
      achievedRatePerSecond: median(s.rate),
      latencyP99Us: median(s.p99Us),
      lateStartRatio: median(s.lateStartRatio),
      telemetryPointsAcknowledgedRatio: median(s.pointsAcknowledgedRatio),
      rateRatioToNone: Math.round((median(s.rate) / median(base.rate)) * 1000) / 1000,
      p99RatioToNone: Math.round((median(s.p99Us) / median(base.p99Us)) * 1000) / 1000,
      lastOutput: s.outputs.at(-1),
    }])),
  };
}
