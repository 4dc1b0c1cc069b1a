/**
 * Helpers for the read-back end-to-end tests: a scenario file in a temporary directory,
 * and a quiet stdout for runScenario.
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Captures what a command prints. */
export function captureStdout(): { write(text: string): boolean; isTTY: false; text(): string } {
  let text = '';
  return {
    write: (s: string) => {
      text += s;
      return true;
    },
    isTTY: false,
    text: () => text,
  };
}

/** Write scenario text to `<tmp>/scenario.yaml`; returns the directory and the path. */
export async function scenarioFile(text: string): Promise<{ dir: string; path: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'tally-readback-'));
  const path = join(dir, 'scenario.yaml');
  await writeFile(path, text);
  return { dir, path };
}

/**
 * A remote-write scenario against a Prometheus: one counter over `attributes`, `ticks`
 * ticks of `intervalMs`, read back from `prometheusUrl`.
 */
export function remoteWriteScenario(o: {
  name: string;
  seed: number;
  remoteWriteUrl: string;
  prometheusUrl: string;
  attributes: string;
  ticks: number;
  intervalMs: number;
  extraTelemetry?: string;
  extraPrometheus?: string;
  extra?: string;
}): string {
  return `
name: ${o.name}
seed: ${o.seed}
duration: ${o.ticks * o.intervalMs}ms
telemetry:
  protocol: prometheus/remote-write
  endpoint: ${o.remoteWriteUrl}
  exportInterval: ${o.intervalMs}ms
  maxBatchDataPoints: 2000
  metrics:
    - { name: tally.requests, instrument: counter, attributes: ${o.attributes} }
${o.extraTelemetry ?? ''}
backends:
  prometheus:
    url: ${o.prometheusUrl}
    pollInterval: 250ms
${o.extraPrometheus ?? ''}
reconcile: { settle: 2s, maxWait: 10s }
${o.extra ?? ''}
`;
}
