/**
 * `tally k8s render <scenario> --shards N --namespace NS --image IMAGE [--schedule CRON]
 * [--with-target] [--pvc NAME] [--port-range LOW-HIGH] [--cpu Q] [--memory Q] [--out DIR|-]`:
 * read and validate the scenario, render (k8s/render.ts), and write one file per object
 * into DIR (default `k8s/rendered/<base name>`), or every object to stdout with `--out -`.
 */
import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError } from '../../core/errors.ts';
import type { TextOut } from '../../core/text-out.ts';
import { writeFileAtomic } from '../../host/files.ts';
import { baseName, manifestStream, renderK8s } from '../../k8s/render.ts';
import { parseScenario } from '../../scenarios/load.ts';

/** Usage text of `tally k8s`. */
export const K8S_USAGE = `usage: tally k8s render <scenario> --shards N --namespace NS --image IMAGE[@sha256:…]
         [--schedule CRON] [--with-target] [--target-replicas R] [--pvc NAME] [--port-range LOW-HIGH]
         [--cpu Q] [--memory Q] [--out DIR|-]
  renders a sharded run: ServiceAccount, the scenario ConfigMap (named by its hash), a headless Service,
  an Indexed Job (a CronJob with --schedule), and with --with-target a target Deployment and Service.
  Deterministic and server-side-apply clean: kubectl apply --server-side --field-manager=tally -f DIR`;

function usage(message: string): ConfigError {
  return new ConfigError(`${message}\n${K8S_USAGE}`, [], { code: 'TALLY_USAGE' });
}

/**
 * Run `tally k8s …`.
 * @returns 0.
 * @throws ConfigError `TALLY_USAGE` for bad flags, `TALLY_CONFIG_*` for a bad scenario (exit 2).
 */
export async function k8sCommand(argv: string[], out: TextOut, err: TextOut = process.stderr): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        shards: { type: 'string' }, namespace: { type: 'string' }, image: { type: 'string' }, schedule: { type: 'string' }, 'with-target': { type: 'boolean' },
        'target-replicas': { type: 'string' }, pvc: { type: 'string' }, 'port-range': { type: 'string' }, cpu: { type: 'string' }, memory: { type: 'string' }, out: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (e) {
    throw usage((e as Error).message);
  }
  const v = parsed.values;
  if (v.help) {
    out.write(`${K8S_USAGE}\n`);
    return 0;
  }
  const [sub, scenarioPath, ...extra] = parsed.positionals;
  if (sub !== 'render' || scenarioPath === undefined || extra.length > 0) throw usage('tally k8s render takes one scenario file');
  if (v.shards === undefined || v.namespace === undefined || v.image === undefined) throw usage('--shards, --namespace and --image are required');
  let text: string;
  try {
    text = await readFile(scenarioPath, 'utf8');
  } catch (cause) {
    throw new ConfigError(`cannot read scenario ${scenarioPath}`, [], { code: 'TALLY_CONFIG_UNREADABLE', cause });
  }
  const { scenario } = parseScenario(text, scenarioPath);
  const range = v['port-range'] === undefined ? undefined : /^(\d+)-(\d+)$/.exec(v['port-range']);
  if (range === null) throw usage('--port-range LOW-HIGH, e.g. 1024-65535');
  const rendered = renderK8s({
    scenarioText: text, scenario, shards: Number(v.shards), namespace: v.namespace, image: v.image,
    ...(v.schedule === undefined ? {} : { schedule: v.schedule }),
    withTarget: v['with-target'] ?? false,
    ...(v['target-replicas'] === undefined ? {} : { targetReplicas: Number(v['target-replicas']) }),
    ...(v.pvc === undefined ? {} : { pvcName: v.pvc }),
    ...(range === undefined ? {} : { portRange: { low: Number(range[1]), high: Number(range[2]) } }),
    ...(v.cpu === undefined ? {} : { cpu: v.cpu }),
    ...(v.memory === undefined ? {} : { memory: v.memory }),
  });
  const budget = rendered.portBudget;
  if (budget.computed) for (const w of budget.warnings) err.write(`warning: ${w.code}: ${w.message}\n`);
  if (v.out === '-') {
    out.write(manifestStream(rendered));
    return 0;
  }
  const dir = v.out ?? join('k8s', 'rendered', baseName(scenario.name));
  await mkdir(dir, { recursive: true });
  // An earlier render's objects that this one no longer has would otherwise be applied with it.
  for (const name of await readdir(dir)) if (/^\d\d-[a-z]+-[a-z0-9-]+\.yaml$/.test(name)) await rm(join(dir, name));
  for (const f of rendered.files) await writeFileAtomic(join(dir, f.file), f.text);
  out.write(`${rendered.files.map((f) => join(dir, f.file)).join('\n')}\nport budget per shard pod: ${budget.summary}\n`);
  return 0;
}
