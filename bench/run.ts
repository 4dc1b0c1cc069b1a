/**
 * `node bench/run.ts <name> [flags]` (`npm run bench -- <name>`): the self-benchmark
 * dispatcher. Each bench registers a name, a one-line description and a function that takes
 * its flags and returns one JSON-serialisable object, which is printed to stdout. Benches
 * load lazily, so one bench's imports never slow another.
 *
 * Exit codes as the CLI: 2 for bad usage, 1 for a failure (missing tool, peer failed).
 */
import { ConfigError, exitCodeFor } from '../core/errors.ts';

/** One registered benchmark. */
export interface BenchEntry {
  description: string;
  /** Load the bench and run it with its flags. */
  run(argv: string[]): Promise<unknown>;
}

/** Every benchmark, by name. Add a line here to register another. */
export const BENCHES: Record<string, BenchEntry> = {
  accuracy: {
    description: "tally's own error against the wire (root): connect, TTFB and total p50/p99 vs a packet capture, through a known delay, at 200/s and 2,000/s; wrk the same",
    run: async (argv) => (await import('./accuracy.ts')).accuracyBench(argv),
  },
  churn: {
    description: 'new connections/s at saturation against nginx: tally vs wrk vs autocannon',
    run: async (argv) => (await import('./churn.ts')).churnBench(argv),
  },
  encode: {
    description: 'OTLP data points/s and spans/s on one thread: the official otlp-transformer serializer vs tally\'s fast path',
    run: async (argv) => (await import('./encode.ts')).encodeBench(argv),
  },
  html: {
    description: 'the HTML report: file size and render time (Node and chromium) for a real 30 s run and a synthesised 1-hour one',
    run: async (argv) => (await import('./html-report.ts')).htmlReportBench(argv),
  },
  output: {
    description: "the measurement output's cost on the load: none vs remote write and OTLP into Prometheus 3 vs an endpoint that never answers",
    run: async (argv) => (await import('./output.ts')).outputBench(argv),
  },
  pipeline: {
    description: 'tally run at scale (default 1,000,000 series) against a real Prometheus 3: send every tick, ledger, read back, reconcile; peak RSS, reconcile seconds, send rate against the backend\'s own ceiling',
    run: async (argv) => (await import('./pipeline.ts')).pipelineBench(argv),
  },
  reconcile: {
    description: 'read-back and reconciliation of 100k series × 60 ticks against Debian\'s Prometheus: seconds, peak RSS, queries',
    run: async (argv) => (await import('./reconcile.ts')).reconcileBench(argv),
  },
};

function usage(): string {
  const names = Object.entries(BENCHES).map(([name, b]) => `  ${name.padEnd(12)} ${b.description}`);
  return `usage: node bench/run.ts <name> [flags]\n${names.join('\n')}`;
}

/**
 * Run the named bench and print its JSON.
 * @throws ConfigError `TALLY_USAGE` for an unknown or missing name.
 */
export async function runBench(argv: string[], out: { write(text: string): unknown }): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h') {
    out.write(`${usage()}\n`);
    return name === undefined ? 2 : 0;
  }
  const bench = Object.hasOwn(BENCHES, name) ? BENCHES[name] : undefined;
  if (bench === undefined) throw new ConfigError(`unknown bench "${name}"\n${usage()}`, [{ pointer: '/name', message: `one of ${Object.keys(BENCHES).join(', ')}` }], { code: 'TALLY_USAGE' });
  out.write(`${JSON.stringify(await bench.run(rest), null, 2)}\n`);
  return 0;
}

if (import.meta.main) {
  runBench(process.argv.slice(2), process.stdout).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(`error: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exitCode = exitCodeFor(error);
    },
  );
}
