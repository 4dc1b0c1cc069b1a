/**
 * `tally k8s render`: byte-identical renders, every object valid against the Kubernetes
 * 1.36 OpenAPI schemas (kubernetes-models 5.1), no field the API server or a controller
 * owns, the pod settings the issue asks for, and the committed examples in sync.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { parseAllDocuments, parse as parseYaml } from 'yaml';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { CronJob } from 'kubernetes-models/batch/v1/CronJob';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { Job } from 'kubernetes-models/batch/v1/Job';
import { Service } from 'kubernetes-models/v1/Service';
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import { ConfigError } from '../../core/errors.ts';
import { manifestStream, renderK8s, type K8sObject, type RenderInput } from '../../k8s/render.ts';
import { parseScenario } from '../../scenarios/load.ts';
import { EXAMPLES, exampleFiles, EXAMPLE_IMAGE } from './examples.ts';

const MODELS: Record<string, new (data: any) => { validate(): void }> = { ServiceAccount, ConfigMap, Service, Job, CronJob, Deployment };

function input(file: string, flags: Partial<RenderInput> = {}): RenderInput {
  const scenarioText = readFileSync(new URL(`../../scenarios/${file}`, import.meta.url), 'utf8');
  return { scenarioText, scenario: parseScenario(scenarioText).scenario, shards: 4, namespace: 'bench', image: EXAMPLE_IMAGE, ...flags };
}

const VARIANTS: [string, Partial<RenderInput>][] = [
  ['k8s-churn.yaml', { withTarget: true }],
  ['k8s-nightly.yaml', { schedule: '0 2 * * *', shards: 2 }],
  ['k8s-soak.yaml', { pvcName: 'tally-results', shards: 3 }],
  ['smoke.yaml', { shards: 1 }],
];

/** Paths (dotted) of every key in an object, arrays by index. */
function paths(value: unknown, prefix = ''): string[] {
  if (Array.isArray(value)) return value.flatMap((v, i) => paths(v, `${prefix}[${i}]`));
  if (value === null || typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([k, v]) => [`${prefix}${prefix ? '.' : ''}${k}`, ...paths(v, `${prefix}${prefix ? '.' : ''}${k}`)]);
}

/** Fields the API server sets or defaults, or a controller owns: an SSA apply that carries them fights their owner. */
const SERVER_OWNED = [
  /(^|\.)status(\.|$)/, /^metadata\.(creationTimestamp|uid|resourceVersion|generation|managedFields|selfLink)/,
  /(^|\.)spec\.selector$/, /(^|\.)spec\.selector\./, /manualSelector/, /controller-uid/, /(^|\.)job-name$/, /batch\.kubernetes\.io\/(job-name|controller-uid)"?$/,
  /clusterIPs/, /(^|\.)terminationMessagePath/, /(^|\.)terminationMessagePolicy/, /(^|\.)imagePullPolicy/, /(^|\.)dnsPolicy/, /(^|\.)schedulerName/,
  /(^|\.)terminationGracePeriodSeconds/, /(^|\.)revisionHistoryLimit/, /(^|\.)progressDeadlineSeconds/, /(^|\.)sessionAffinity/, /(^|\.)internalTrafficPolicy/, /(^|\.)ipFamil/,
  /(^|\.)protocol$/, /(^|\.)podReplacementPolicy/, /(^|\.)suspend$/,
];

test('renders are byte-identical for the same input, and keys are sorted at every level', () => {
  for (const [file, flags] of VARIANTS) {
    const a = manifestStream(renderK8s(input(file, flags)));
    const b = manifestStream(renderK8s(input(file, flags)));
    assert.equal(a, b, file);
    for (const doc of parseAllDocuments(a)) {
      const walk = (v: unknown): void => {
        if (Array.isArray(v)) return v.forEach(walk);
        if (v === null || typeof v !== 'object') return;
        const keys = Object.keys(v);
        assert.deepEqual(keys, [...keys].sort(), `${file}: keys sorted`);
        Object.values(v).forEach(walk);
      };
      walk(doc.toJS());
    }
  }
});

test('every rendered object validates against the Kubernetes OpenAPI schemas and carries no server-owned field', () => {
  for (const [file, flags] of VARIANTS) {
    for (const object of renderK8s(input(file, flags)).objects) {
      const model = MODELS[object.kind!];
      assert.ok(model, `${object.kind} has a model`);
      new model(structuredClone(object)).validate();
      // Deployment's spec.selector is the user's to give (required); a Job's is the controller's.
      const owned = paths(object)
        .filter((p) => SERVER_OWNED.some((r) => r.test(p)))
        .filter((p) => !((object.kind === 'Deployment' || object.kind === 'Service') && /^spec\.selector(\.|$)/.test(p)));
      assert.deepEqual(owned, [], `${file}: ${object.kind} ${object.metadata?.name}`);
      assert.equal(object.metadata?.namespace, 'bench');
    }
  }
  // The check catches what it looks for.
  assert.ok(paths({ status: {}, spec: { selector: { matchLabels: {} } } }).some((p) => SERVER_OWNED.some((r) => r.test(p))));
  assert.throws(() => new Job({ metadata: { name: 'x' }, spec: { completions: 'four' as unknown as number, template: { spec: { containers: [] } } } }).validate());
});

function jobSpecOf(objects: K8sObject[]): any {
  const job = objects.find((o) => o.kind === 'Job') as any;
  return job?.spec ?? (objects.find((o) => o.kind === 'CronJob') as any).spec.jobTemplate.spec;
}

test('the Indexed Job: completions = parallelism = N, shard i of N from the completion index, spread one per node, restricted security, the port-range sysctl', () => {
  const r = renderK8s(input('k8s-churn.yaml', { withTarget: true }));
  const spec = jobSpecOf(r.objects);
  assert.equal(spec.completionMode, 'Indexed');
  assert.equal(spec.completions, 4);
  assert.equal(spec.parallelism, 4);
  const pod = spec.template.spec;
  const c = pod.containers[0];
  assert.deepEqual(c.args.slice(0, 4), ['run', '/etc/tally/scenario.yaml', '--shard', '$(JOB_COMPLETION_INDEX)/4']);
  assert.ok(c.env.some((e: any) => e.name === 'JOB_COMPLETION_INDEX'));
  assert.equal(pod.subdomain, 'tally-churn-vip-shards');
  assert.equal(pod.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].topologyKey, 'kubernetes.io/hostname');
  assert.equal(pod.securityContext.runAsNonRoot, true);
  assert.deepEqual(pod.securityContext.sysctls, [{ name: 'net.ipv4.ip_local_port_range', value: '1024 65535' }]);
  assert.equal(c.securityContext.readOnlyRootFilesystem, true);
  assert.equal(c.securityContext.allowPrivilegeEscalation, false);
  assert.deepEqual(c.securityContext.capabilities, { drop: ['ALL'] });
  assert.ok(c.resources.requests.cpu && c.resources.limits.memory);
  assert.equal(pod.automountServiceAccountToken, false);
  const sa = r.objects.find((o) => o.kind === 'ServiceAccount') as any;
  assert.equal(sa.automountServiceAccountToken, false);
  assert.ok(!r.objects.some((o) => /Role/.test(o.kind!)), 'no API rights');
  const headless = r.objects.find((o) => o.kind === 'Service' && o.metadata!.name!.endsWith('-shards')) as any;
  assert.equal(headless.spec.clusterIP, 'None');
  // --with-target: a target behind a ClusterIP Service, and the scenario pointed at it.
  const target = r.objects.find((o) => o.kind === 'Service' && o.metadata!.name!.endsWith('-target')) as any;
  assert.equal(target.spec.clusterIP, undefined, 'a ClusterIP Service: the address is the server\'s to allocate');
  const cm = r.objects.find((o) => o.kind === 'ConfigMap') as any;
  assert.equal(parseYaml(cm.data['scenario.yaml']).load.target, 'http://tally-churn-vip-target.bench.svc:80/');
  assert.match(cm.metadata.name, /^tally-churn-vip-scenario-[0-9a-f]{10}$/);
  assert.ok(r.objects.some((o) => o.kind === 'Deployment'));
});

test('the ConfigMap name follows the scenario content; --schedule renders a CronJob; the port budget uses the pod\'s port range', () => {
  const base = input('k8s-nightly.yaml', { schedule: '0 2 * * *', shards: 2 });
  const cm = (i: RenderInput): string => renderK8s(i).objects.find((o) => o.kind === 'ConfigMap')!.metadata!.name!;
  assert.notEqual(cm(base), cm({ ...base, scenarioText: `${base.scenarioText}\n# changed\n` }));
  const cron = renderK8s(base).objects.find((o) => o.kind === 'CronJob') as any;
  assert.equal(cron.spec.schedule, '0 2 * * *');
  assert.equal(cron.spec.concurrencyPolicy, 'Forbid');
  assert.ok(!renderK8s(base).objects.some((o) => o.kind === 'Job'));
  // 500 connections/s per shard with FIN: ~30,000 ports in TIME_WAIT fit 1024–65535, not a default 32768–60999.
  const churn = input('k8s-churn.yaml', { withTarget: true });
  const wide = renderK8s(churn).portBudget;
  const narrow = renderK8s({ ...churn, portRange: { low: 32768, high: 60999 } }).portBudget;
  assert.ok(wide.computed && narrow.computed);
  assert.equal(wide.ok, true);
  assert.equal(narrow.ok, false);
  assert.ok(narrow.warnings.some((w) => w.code === 'PORT_BUDGET_EXHAUSTED'));
  // Twice the rate per shard (2 shards): ~61,000 ports would still fit the wide range, but
  // TIME_WAIT fills the half connect() searches first (~32,000) after about 32 s: the cliff.
  const cliff = renderK8s({ ...churn, shards: 2 }).portBudget;
  assert.ok(cliff.computed);
  assert.equal(cliff.ok, false);
  const codes = cliff.warnings.map((w) => w.code);
  assert.ok(codes.includes('PORT_BUDGET_CONNECT_CLIFF') && !codes.includes('PORT_BUDGET_EXHAUSTED'), codes.join());
  assert.match(cliff.summary, /^PORT_BUDGET_CONNECT_CLIFF: per shard pod 1000 new connections\/s/);
});

test('bad flags are refused with TALLY_USAGE', () => {
  for (const flags of [{ shards: 0 }, { namespace: 'Bench_1' }, { image: 'not an image' }, { schedule: 'every night' }, { portRange: { low: 80, high: 90 } }]) {
    assert.throws(() => renderK8s(input('smoke.yaml', flags)), (e: unknown) => e instanceof ConfigError && e.code === 'TALLY_USAGE', JSON.stringify(flags));
  }
});

test('the examples in k8s/examples/ are the renders of their scenarios, byte for byte', () => {
  const fresh = exampleFiles();
  for (const { file, text } of fresh) assert.equal(readFileSync(file, 'utf8'), text, file.pathname);
  for (const e of EXAMPLES) {
    const committed = readdirSync(new URL(`../../k8s/examples/${e.dir}/`, import.meta.url)).sort();
    assert.deepEqual(committed, fresh.filter((f) => f.file.pathname.includes(`/${e.dir}/`)).map((f) => f.file.pathname.split('/').pop()).sort());
  }
});
