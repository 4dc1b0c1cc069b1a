/**
 * Pure parts of the lab: topology planner, nftables renderer, command plan, state file,
 * root check and flag parsing. No root, no namespaces.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, TallyError } from '../../core/errors.ts';
import { labCommand } from '../../bin/commands/lab.ts';
import { assertRoot } from '../../lab/lifecycle.ts';
import { CAP_DROP_COUNTER, endpointChainName, endpointCounterName, renderRuleset, serviceChainName } from '../../lab/nft.ts';
import { parseNftCounters } from '../../lab/observe.ts';
import { buildState, parseState } from '../../lab/state.ts';
import { planDownSteps, planUpSteps } from '../../lab/steps.ts';
import { isLabNamespace, LAB_DEFAULTS, MAX_BACKENDS, planTopology, topologyNamespaces } from '../../lab/topology.ts';
import type { LabOptions } from '../../lab/topology.ts';

const options = (over: Partial<LabOptions> = {}): LabOptions => ({ ...LAB_DEFAULTS, ...over });

const isUsage = (error: unknown): boolean => error instanceof ConfigError && error.code === 'TALLY_USAGE';

test('planner: names, addresses and routes for N backends', () => {
  for (const n of [1, 3, 7, 50, MAX_BACKENDS]) {
    const t = planTopology(options({ lab: 'x1', backends: n }));
    assert.equal(t.backends.length, n);
    assert.deepEqual(topologyNamespaces(t).slice(0, 2), ['tally-x1-node', 'tally-x1-client']);
    const addresses = new Set(t.backends.map((b) => b.address));
    assert.equal(addresses.size, n, 'backend addresses are unique');
    for (const b of t.backends) {
      assert.equal(b.namespace, `tally-x1-be${b.index}`);
      assert.equal(b.name, `be${b.index}`);
      assert.match(b.address, /^10\.203\.0\.\d+$/);
      const host = Number(b.address.split('.')[3]);
      assert.ok(host >= 2 && host <= 254 && b.address !== t.node.bridgeAddress);
      assert.ok(b.nodeIfName.length <= 15, 'interface names fit IFNAMSIZ');
      assert.equal(b.port, LAB_DEFAULTS.targetPort);
    }
    // Client and backends on different subnets: the node must route (and conntrack) between them.
    assert.match(t.client.address, /^10\.203\.2\./);
    assert.equal(t.client.gateway, t.node.clientSideAddress);
    assert.match(t.service.vip, /^10\.203\.1\./);
    for (const ns of topologyNamespaces(t)) assert.ok(isLabNamespace(ns, t.namespacePrefix), ns);
  }
});

test('planner: every invalid option is reported with TALLY_USAGE and a pointer', () => {
  const bad = () => planTopology(options({ lab: 'Bad-Name', backends: 0, servicePort: 70000, targetPort: 0, conntrackMaxConnections: 0 }));
  assert.throws(bad, (error: unknown) => {
    assert.ok(isUsage(error));
    assert.deepEqual((error as ConfigError).problems.map((p) => p.pointer).sort(), ['/backends', '/conntrack-max', '/lab', '/port', '/target-port']);
    return true;
  });
  assert.throws(() => planTopology(options({ backends: MAX_BACKENDS + 1 })), isUsage);
  assert.throws(() => planTopology(options({ backends: 2.5 })), isUsage);
});

test('isLabNamespace matches exactly this lab, never a lab whose name extends it', () => {
  const prefix = 'tally-lab-';
  for (const yes of ['tally-lab-node', 'tally-lab-client', 'tally-lab-be0', 'tally-lab-be199']) assert.ok(isLabNamespace(yes, prefix), yes);
  for (const no of ['tally-lab2-node', 'tally-lab-x-node', 'tally-lab-be', 'tally-lab-node2', 'tally-lab-bex', 'other', 'tally-lab-']) {
    assert.ok(!isLabNamespace(no, prefix), no);
  }
});

/** The lines of the chain named `name` in rendered nft text. */
function chainBody(text: string, name: string): string[] {
  const lines = text.split('\n');
  const start = lines.findIndex((l) => l.trim() === `chain ${name} {`);
  assert.ok(start >= 0, `chain ${name} present`);
  const end = lines.findIndex((l, i) => i > start && l.trim() === '}');
  return lines.slice(start + 1, end).map((l) => l.trim());
}

test('ruleset: service map, numgen vmap over every endpoint, one DNAT per backend', () => {
  for (const n of [1, 3, 10]) {
    const t = planTopology(options({ backends: n, servicePort: 8081, targetPort: 9000 }));
    const text = renderRuleset(t);
    assert.match(text, /^table ip tally \{/);
    assert.ok(text.includes(`elements = { 10.203.1.1 . tcp . 8081 : goto ${serviceChainName(t)} }`));
    assert.deepEqual(chainBody(text, 'nat-prerouting'), ['type nat hook prerouting priority dstnat; policy accept;', 'jump services']);
    assert.deepEqual(chainBody(text, 'services'), ['ip daddr . meta l4proto . th dport vmap @service-ips']);

    const [vmapLine] = chainBody(text, serviceChainName(t));
    const m = /^numgen random mod (\d+) vmap \{ (.*) \}$/.exec(vmapLine);
    assert.ok(m, vmapLine);
    assert.equal(Number(m[1]), n);
    const entries = m[2].split(', ').map((e) => /^(\d+) : goto (\S+)$/.exec(e));
    assert.deepEqual(entries.map((e) => Number(e?.[1])), [...Array(n).keys()], 'each value 0…N-1 exactly once');
    assert.deepEqual(entries.map((e) => e?.[2]), t.backends.map((b) => endpointChainName(b.name)));

    for (const b of t.backends) {
      assert.deepEqual(chainBody(text, endpointChainName(b.name)), [`counter name "${endpointCounterName(b.name)}" meta l4proto tcp dnat to ${b.address}:9000`]);
      assert.ok(text.includes(`counter ${endpointCounterName(b.name)} { }`));
    }
    assert.ok(text.includes(`counter ${CAP_DROP_COUNTER} { }`), 'cap counter exists even without a cap');
  }
});

test('ruleset: the conntrack cap is a ct count rule at prerouting/mangle only when asked for', () => {
  const capped = renderRuleset(planTopology(options({ conntrackMaxConnections: 50 })));
  assert.deepEqual(chainBody(capped, 'conntrack-cap'), [
    'type filter hook prerouting priority mangle; policy accept;',
    `ct state new ct count over 50 counter name "${CAP_DROP_COUNTER}" drop`,
  ]);
  const open = renderRuleset(planTopology(options()));
  assert.deepEqual(chainBody(open, 'conntrack-cap'), ['type filter hook prerouting priority mangle; policy accept;']);
  assert.ok(!open.includes('ct count'));
});

test('steps: argv only, namespaces first, one veth per backend plus the client, ruleset last', () => {
  const t = planTopology(options({ lab: 'p', backends: 4, conntrackMaxConnections: 9 }));
  const steps = planUpSteps(t);
  for (const s of steps) assert.ok(s.argv.every((a) => typeof a === 'string' && a.length > 0));
  const adds = steps.filter((s) => s.argv[1] === 'netns' && s.argv[2] === 'add').map((s) => s.argv[3]);
  assert.deepEqual(adds, topologyNamespaces(t));
  assert.deepEqual(steps.slice(0, adds.length).map((s) => s.argv[3]), adds, 'namespaces are created before anything else');
  const veths = steps.filter((s) => s.argv.includes('veth'));
  assert.equal(veths.length, 5);
  for (const v of veths) {
    assert.equal(v.argv[2], t.node.namespace, 'veths are created inside the node namespace');
    assert.ok(topologyNamespaces(t).includes(v.argv.at(-1) as string), 'peer goes straight into a lab namespace');
  }
  for (const s of steps) {
    if (s.argv[1] === '-n') assert.ok(topologyNamespaces(t).includes(s.argv[2]), 'every ip command targets a lab namespace');
    else assert.deepEqual(s.argv.slice(0, 2), ['ip', 'netns']);
  }
  const last = steps.at(-1);
  assert.deepEqual(last?.argv, ['ip', 'netns', 'exec', t.node.namespace, 'nft', '-f', '-']);
  assert.equal(last?.input, renderRuleset(t));
  assert.ok(steps.some((s) => s.argv.includes('/proc/sys/net/ipv4/ip_forward') && s.input === '1\n'));
  assert.deepEqual(planDownSteps(['a', 'b']).map((s) => s.argv), [['ip', 'netns', 'del', 'a'], ['ip', 'netns', 'del', 'b']]);
});

test('state: build → JSON → parse round-trips; garbage is TALLY_CONFIG_INVALID with pointers', () => {
  const t = planTopology(options({ lab: 's', backends: 2, conntrackMaxConnections: 5 }));
  const state = buildState(t, new Map([['be0', 11], ['be1', 12]]), '/tmp/x/state.json', 1234);
  assert.deepEqual(parseState(JSON.stringify(state), 'f'), state);
  assert.equal(state.service.url, 'http://10.203.1.1:80/');
  assert.deepEqual(state.backends.map((b) => [b.name, b.pid, b.logFile]), [['be0', 11, '/tmp/x/tally-s-be0.log'], ['be1', 12, '/tmp/x/tally-s-be1.log']]);
  assert.throws(() => buildState(t, new Map([['be0', 11]]), '/tmp/x/state.json', 0), (e: unknown) => e instanceof TallyError && e.code === 'TALLY_INTERNAL');
  for (const bad of ['nope', '[]', '{"version":2}', JSON.stringify({ ...state, backends: [{ namespace: 'x' }] })]) {
    assert.throws(() => parseState(bad, 'f'), (e: unknown) => e instanceof ConfigError && e.code === 'TALLY_CONFIG_INVALID');
  }
});

test('nft counters: JSON list parsed by name, other tables ignored; bad text is BAD_REPLY', () => {
  const text = JSON.stringify({
    nftables: [
      { metainfo: { version: '1.0.6', json_schema_version: 1 } },
      { counter: { family: 'ip', name: 'endpoint-be0', table: 'tally', handle: 1, packets: 7, bytes: 420 } },
      { counter: { family: 'ip', name: 'other', table: 'x', handle: 2, packets: 1, bytes: 1 } },
    ],
  });
  assert.deepEqual(parseNftCounters(text, 'tally'), { 'endpoint-be0': { packets: 7, bytes: 420 } });
  assert.throws(() => parseNftCounters('{', 'tally'), (e: unknown) => e instanceof TallyError && e.code === 'TALLY_COLLECTOR_BAD_REPLY');
  assert.throws(() => parseNftCounters('{}', 'tally'), (e: unknown) => e instanceof TallyError && e.code === 'TALLY_COLLECTOR_BAD_REPLY');
});

test('root check with injected euid: only 0 passes; the refusal is TALLY_USAGE (exit 2) naming root', () => {
  assert.doesNotThrow(() => assertRoot(0, 'up'));
  for (const euid of [1000, 65534, undefined]) {
    assert.throws(
      () => assertRoot(euid, 'up'),
      (e: unknown) => e instanceof ConfigError && e.code === 'TALLY_USAGE' && /root/.test(e.message),
    );
  }
});

test('lab flags: bad or missing input is TALLY_USAGE before anything runs', async () => {
  const out = { text: '', write(s: string) { this.text += s; } };
  for (const argv of [[], ['sideways'], ['up', '--backends', 'three'], ['up', '--bogus'], ['down', '--', 'ls'], ['status', 'extra'], ['up', '--conntrack-max', '-1']]) {
    await assert.rejects(labCommand(argv, out), isUsage, JSON.stringify(argv));
  }
  assert.equal(await labCommand(['--help'], out), 0);
  assert.match(out.text, /tally lab up/);
});
