/**
 * The rendered examples under k8s/examples/ (`npm run gen:k8s`): a 4-shard churn run
 * through a Service, a nightly CronJob with thresholds, and a soak run, each rendered from
 * its scenario in scenarios/ by k8s/render.ts. examples.test.ts fails when the committed
 * files and a fresh render differ by a byte.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { renderK8s, type RenderInput } from '../../k8s/render.ts';
import { parseScenario } from '../../scenarios/load.ts';

/** The image the examples name: a placeholder pinned by digest (build k8s/Dockerfile and put yours). */
export const EXAMPLE_IMAGE = `registry.example/tally:0.1.0@sha256:${'0'.repeat(64)}`;

/** Each example: its directory under k8s/examples/, its scenario, and the render flags. */
export const EXAMPLES: { dir: string; scenario: string; flags: Omit<RenderInput, 'scenario' | 'scenarioText'> }[] = [
  { dir: 'churn-4-shards', scenario: 'k8s-churn.yaml', flags: { shards: 4, namespace: 'bench', image: EXAMPLE_IMAGE, withTarget: true, targetReplicas: 3 } },
  { dir: 'nightly-cronjob', scenario: 'k8s-nightly.yaml', flags: { shards: 2, namespace: 'bench', image: EXAMPLE_IMAGE, schedule: '0 2 * * *' } },
  { dir: 'soak', scenario: 'k8s-soak.yaml', flags: { shards: 3, namespace: 'bench', image: EXAMPLE_IMAGE, pvcName: 'tally-results', cpu: '1', memory: '1Gi' } },
];

/** Every file of every example, freshly rendered. */
export function exampleFiles(): { file: URL; text: string }[] {
  return EXAMPLES.flatMap((e) => {
    const scenarioText = readFileSync(new URL(`../../scenarios/${e.scenario}`, import.meta.url), 'utf8');
    const { scenario } = parseScenario(scenarioText, e.scenario);
    return renderK8s({ ...e.flags, scenario, scenarioText }).files.map((f) => ({ file: new URL(`../../k8s/examples/${e.dir}/${f.file}`, import.meta.url), text: f.text }));
  });
}

if (import.meta.main) {
  for (const e of EXAMPLES) {
    const dir = new URL(`../../k8s/examples/${e.dir}/`, import.meta.url);
    mkdirSync(dir, { recursive: true });
    for (const name of readdirSync(dir)) rmSync(new URL(name, dir));
  }
  for (const { file, text } of exampleFiles()) {
    writeFileSync(file, text);
    process.stdout.write(`wrote ${file.pathname}\n`);
  }
}
