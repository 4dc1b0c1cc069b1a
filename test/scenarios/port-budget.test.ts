/**
 * Port and descriptor budget: a table of loads against host settings, the /proc parsers,
 * and the reader on this machine.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRng } from '../../core/rng.ts';
import { CollectorError, TallyError } from '../../core/errors.ts';
import {
  countReservedPorts,
  parseLocalPortRange,
  parseOpenFilesLimit,
  planPortBudget,
  readPortBudgetHost,
  TCP_TIMEWAIT_LEN_MS,
} from '../../scenarios/port-budget.ts';
import type { PortBudgetHost, PortBudgetLoad, PortBudgetWarningCode } from '../../scenarios/port-budget.ts';

/** Linux defaults: 32768–60999 (28,232 ports), tw_reuse 2, timestamps on, 60 s TIME_WAIT. */
const HOST: PortBudgetHost = {
  localPortRange: { low: 32768, high: 60999 },
  reservedPortCount: 0,
  tcpTwReuse: 2,
  tcpTimestamps: true,
  twReuseDelayMs: 1000,
  timeWaitMs: TCP_TIMEWAIT_LEN_MS,
  maxTimeWaitBuckets: 1_000_000,
  fdSoftLimit: 1_048_576,
  fdHardLimit: 1_048_576,
  fdsInUse: 30,
};

/** 2,000 conn/s for 60 s, FIN close, one Service VIP (not loopback). */
const LOAD: PortBudgetLoad = {
  ratePerSecond: 2000,
  durationMs: 60_000,
  maxInFlight: 512,
  closeMode: 'fin',
  pairCount: 1,
  destinationLoopback: false,
};

interface Case {
  name: string;
  host?: Partial<PortBudgetHost>;
  load?: Partial<PortBudgetLoad>;
  ok: boolean;
  codes: PortBudgetWarningCode[];
  check?: (n: ReturnType<typeof planPortBudget>['numbers']) => void;
}

const cases: Case[] = [
  {
    name: 'the calibration\'s run: 2,000/s for 20 s over 64,512 ports without reuse exhausts them only at ~32 s, but connect() hits the TIME_WAIT cliff at ~16 s',
    host: { localPortRange: { low: 1024, high: 65535 } },
    load: { durationMs: 20_000 },
    ok: false,
    codes: ['PORT_BUDGET_STEADY_STATE_EXCEEDED', 'PORT_BUDGET_CONNECT_CLIFF'],
    check: (n) => {
      assert.equal(n.portsPerPair, 64_512);
      assert.equal(n.timeToExhaustionMs, 32_000);
      assert.equal(n.connectCliffTimeWaitPerPair, 32_256);
      assert.equal(n.timeToConnectCliffMs, 15_872);
    },
  },
  {
    name: 'more ports than exist: 2,000/s × 60 s TIME_WAIT = 120,000 > 28,232 → connect() slows at ~7 s, exhausted after ~14 s',
    ok: false,
    codes: ['PORT_BUDGET_EXHAUSTED', 'PORT_BUDGET_CONNECT_CLIFF'],
    check: (n) => {
      assert.equal(n.portsPerPair, 28_232);
      assert.equal(n.heldPortsSteadyPerPair, 120_000);
      assert.equal(n.portHoldMs, 60_000);
      assert.equal(n.twReuseApplies, false);
      assert.equal(n.timeToExhaustionMs, 13_860);
      assert.equal(n.timeToConnectCliffMs, 6_802);
      assert.ok(n.headroomPortsPerPair < 0);
    },
  },
  {
    name: 'RST close leaves no TIME_WAIT: only open connections hold ports',
    load: { closeMode: 'rst' },
    ok: true,
    codes: [],
    check: (n) => {
      assert.equal(n.heldPortsSteadyPerPair, 0);
      assert.equal(n.portsNeededPeakPerPair, 512);
      assert.equal(n.timeToExhaustionMs, null);
      assert.equal(n.timeWaitSocketsPeak, 0);
    },
  },
  {
    name: 'five local addresses: budget scales with pairs (24,103 of 28,232 per pair: fits, low headroom), but TIME_WAIT fills half of each pair\'s range at ~35 s',
    load: { pairCount: 5 },
    ok: false,
    codes: ['PORT_BUDGET_LOW_HEADROOM', 'PORT_BUDGET_CONNECT_CLIFF'],
    check: (n) => {
      assert.equal(n.portsTotal, 5 * 28_232);
      assert.equal(n.ratePerPairPerSecond, 400);
      assert.equal(n.portsNeededSteadyPerPair, 400 * 60 + Math.ceil(512 / 5));
      assert.equal(n.timeToExhaustionMs, null);
    },
  },
  {
    name: 'eight local addresses: ports last, but 15,000 TIME_WAIT per pair pass the connect cliff (14,116) at ~56 s',
    load: { pairCount: 8 },
    ok: false,
    codes: ['PORT_BUDGET_CONNECT_CLIFF'],
  },
  {
    name: 'ten local addresses: comfortable (12,000 TIME_WAIT per pair, under half the range)',
    load: { pairCount: 10 },
    ok: true,
    codes: [],
    check: (n) => assert.equal(n.timeToConnectCliffMs, null),
  },
  {
    name: 'tcp_tw_reuse=2 on loopback: ports come back after the 1 s reuse delay',
    load: { destinationLoopback: true },
    ok: true,
    codes: [],
    check: (n) => {
      assert.equal(n.twReuseApplies, true);
      assert.equal(n.portHoldMs, 1000);
      assert.equal(n.heldPortsSteadyPerPair, 2000);
    },
  },
  {
    name: 'tcp_tw_reuse=2 to a non-loopback destination does not apply (the default case above)',
    host: { tcpTwReuse: 2 },
    load: { destinationLoopback: false },
    ok: false,
    codes: ['PORT_BUDGET_EXHAUSTED', 'PORT_BUDGET_CONNECT_CLIFF'],
    check: (n) => assert.equal(n.twReuseApplies, false),
  },
  {
    name: 'tcp_tw_reuse=1 applies to non-loopback destinations too',
    host: { tcpTwReuse: 1 },
    ok: true,
    codes: [],
    check: (n) => assert.equal(n.portHoldMs, 1000),
  },
  {
    name: 'tcp_tw_reuse=1 without TCP timestamps cannot reuse',
    host: { tcpTwReuse: 1, tcpTimestamps: false },
    ok: false,
    codes: ['PORT_BUDGET_EXHAUSTED', 'PORT_BUDGET_CONNECT_CLIFF'],
    check: (n) => assert.equal(n.twReuseApplies, false),
  },
  {
    name: 'tcp_tw_reuse=0 on loopback cannot reuse',
    host: { tcpTwReuse: 0 },
    load: { destinationLoopback: true },
    ok: false,
    codes: ['PORT_BUDGET_EXHAUSTED', 'PORT_BUDGET_CONNECT_CLIFF'],
  },
  {
    name: 'a 10 s run ends before the ~14 s exhaustion, but steady state does not fit, and the connect cliff comes at ~7 s',
    load: { durationMs: 10_000 },
    ok: false,
    codes: ['PORT_BUDGET_STEADY_STATE_EXCEEDED', 'PORT_BUDGET_CONNECT_CLIFF'],
    check: (n) => assert.equal(n.portsNeededPeakPerPair, 2000 * 10 + 512),
  },
  {
    name: 'reserved ports shrink the range',
    host: { reservedPortCount: 8232 },
    load: { closeMode: 'rst', maxInFlight: 19_000 },
    ok: true,
    codes: ['PORT_BUDGET_LOW_HEADROOM'],
    check: (n) => assert.equal(n.portsPerPair, 20_000),
  },
  {
    name: 'more connections in flight than ports: exhausted at once',
    load: { closeMode: 'rst', maxInFlight: 30_000 },
    ok: false,
    codes: ['PORT_BUDGET_EXHAUSTED'],
    check: (n) => assert.equal(n.timeToExhaustionMs, 0),
  },
  {
    name: 'tcp_max_tw_buckets overflow caps the ports TIME_WAIT can hold',
    host: { maxTimeWaitBuckets: 131_072 },
    load: { ratePerSecond: 3000, pairCount: 20 },
    ok: true,
    codes: ['TIME_WAIT_BUCKETS_OVERFLOW'],
    check: (n) => {
      assert.equal(n.timeWaitSocketsPeak, 180_000);
      assert.equal(n.heldPortsSteadyPerPair, 131_072 / 20);
    },
  },
  {
    name: 'in-flight descriptors above the soft limit: EMFILE',
    host: { fdSoftLimit: 1024, fdHardLimit: 524_288 },
    load: { closeMode: 'rst', maxInFlight: 1000 },
    ok: false,
    codes: ['FD_BUDGET_EXCEEDED'],
    check: (n) => assert.equal(n.fdHeadroom, 1024 - 1030),
  },
  {
    name: 'an in-process target doubles descriptors per connection',
    host: { fdSoftLimit: 20_000 },
    load: { closeMode: 'rst', maxInFlight: 9000, fdsPerConnection: 2 },
    ok: true,
    codes: ['FD_BUDGET_LOW_HEADROOM'],
    check: (n) => assert.equal(n.fdsNeeded, 30 + 18_000),
  },
];

for (const c of cases) {
  test(`planPortBudget: ${c.name}`, () => {
    const budget = planPortBudget({ ...HOST, ...c.host }, { ...LOAD, ...c.load });
    assert.deepEqual(budget.warnings.map((w) => w.code), c.codes);
    assert.equal(budget.ok, c.ok);
    c.check?.(budget.numbers);
  });
}

test('the exhausted warning carries its numbers', () => {
  const [warning] = planPortBudget(HOST, LOAD).warnings;
  assert.equal(warning.code, 'PORT_BUDGET_EXHAUSTED');
  assert.deepEqual(warning.numbers, {
    portsPerPair: 28_232,
    pairCount: 1,
    ratePerPairPerSecond: 2000,
    portHoldMs: 60_000,
    portsNeededSteadyPerPair: 120_512,
    timeToExhaustionMs: 13_860,
    twReuseApplies: false,
    durationMs: 60_000,
  });
});

test('invalid input → PlanError TALLY_PLAN_INVALID', () => {
  const isPlanInvalid = (e: unknown): boolean => e instanceof TallyError && e.code === 'TALLY_PLAN_INVALID';
  assert.throws(() => planPortBudget({ ...HOST, localPortRange: { low: 61000, high: 32768 } }, LOAD), isPlanInvalid);
  assert.throws(() => planPortBudget(HOST, { ...LOAD, pairCount: 0 }), isPlanInvalid);
  assert.throws(() => planPortBudget(HOST, { ...LOAD, ratePerSecond: 0 }), isPlanInvalid);
  assert.throws(() => planPortBudget({ ...HOST, tcpTwReuse: 3 as 2 }, LOAD), isPlanInvalid);
});

test('property: k pairs at k× the rate budget exactly like one pair (seeded)', () => {
  // Uncapped TIME_WAIT: tcp_max_tw_buckets is per namespace, so it does not scale with pairs.
  const host = { ...HOST, maxTimeWaitBuckets: Number.POSITIVE_INFINITY };
  const rng = createRng(42);
  for (let round = 0; round < 100; round++) {
    const one: PortBudgetLoad = {
      ...LOAD,
      ratePerSecond: 1 + rng.int(5000),
      maxInFlight: 1 + rng.int(2000),
      durationMs: 1000 * (1 + rng.int(120)),
      closeMode: rng.int(2) === 0 ? 'fin' : 'rst',
    };
    const k = 1 + rng.int(16);
    const many = { ...one, ratePerSecond: one.ratePerSecond * k, maxInFlight: one.maxInFlight * k, pairCount: k };
    const a = planPortBudget(host, one).numbers;
    const b = planPortBudget(host, many).numbers;
    assert.equal(b.timeToExhaustionMs, a.timeToExhaustionMs);
    assert.equal(b.portsNeededPeakPerPair, a.portsNeededPeakPerPair);
    assert.equal(b.portsTotal, a.portsTotal * k);
  }
});

test('property: more pairs never reduce headroom (seeded)', () => {
  const rng = createRng(9);
  for (let round = 0; round < 100; round++) {
    const load = { ...LOAD, ratePerSecond: 1 + rng.int(10_000), pairCount: 1 + rng.int(8) };
    const a = planPortBudget(HOST, load).numbers.headroomPortsPerPair;
    const b = planPortBudget(HOST, { ...load, pairCount: load.pairCount + 1 }).numbers.headroomPortsPerPair;
    assert.ok(b >= a);
  }
});

test('parseLocalPortRange, countReservedPorts and parseOpenFilesLimit read the documented formats', () => {
  assert.deepEqual(parseLocalPortRange('32768\t60999\n'), { low: 32768, high: 60999 });
  assert.equal(countReservedPorts('\n', { low: 32768, high: 60999 }), 0);
  // 8080 is outside the range; 32768-32777 is 10 ports; 60999 one; 61000-61010 outside.
  assert.equal(countReservedPorts('8080,32768-32777,60999,61000-61010\n', { low: 32768, high: 60999 }), 11);
  const limits =
    'Limit                     Soft Limit           Hard Limit           Units     \n' +
    'Max processes             96365                96365                processes \n' +
    'Max open files            20000                524288               files     \n';
  assert.deepEqual(parseOpenFilesLimit(limits), { soft: 20000, hard: 524288 });
  assert.deepEqual(parseOpenFilesLimit('Max open files            unlimited            unlimited            files     \n'), {
    soft: Number.POSITIVE_INFINITY,
    hard: Number.POSITIVE_INFINITY,
  });
});

test('garbled host files → CollectorError TALLY_COLLECTOR_BAD_REPLY naming the file', () => {
  const badReply = (file: string) => (e: unknown): boolean =>
    e instanceof CollectorError && e.code === 'TALLY_COLLECTOR_BAD_REPLY' && (e.details as { file: string }).file === file;
  assert.throws(() => parseLocalPortRange('32768\n'), badReply('/proc/sys/net/ipv4/ip_local_port_range'));
  assert.throws(() => countReservedPorts('80,a-b', { low: 1, high: 2 }), badReply('/proc/sys/net/ipv4/ip_local_reserved_ports'));
  assert.throws(() => parseOpenFilesLimit('Max cpu time unlimited unlimited seconds\n'), badReply('/proc/self/limits'));
  assert.throws(() => parseOpenFilesLimit('Max open files lots lots files\n', '/proc/1/limits'), badReply('/proc/1/limits'));
});

test('readPortBudgetHost on this machine returns sane values that match /proc', async () => {
  const host = await readPortBudgetHost();
  const [low, high] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
  assert.deepEqual(host.localPortRange, { low, high });
  assert.ok(host.localPortRange.low >= 1 && host.localPortRange.low < host.localPortRange.high && host.localPortRange.high <= 65535);
  assert.ok(host.reservedPortCount >= 0 && host.reservedPortCount < high - low + 1);
  assert.ok([0, 1, 2].includes(host.tcpTwReuse));
  assert.equal(host.tcpTwReuse, Number(readFileSync('/proc/sys/net/ipv4/tcp_tw_reuse', 'utf8')));
  assert.equal(host.timeWaitMs, 60_000);
  assert.ok(host.twReuseDelayMs >= 0 && host.twReuseDelayMs <= 60_000);
  assert.ok(host.maxTimeWaitBuckets > 0);
  assert.ok(host.fdSoftLimit > 0 && host.fdSoftLimit <= host.fdHardLimit);
  assert.ok(host.fdsInUse > 0 && host.fdsInUse < host.fdSoftLimit);
  // The budget runs on what the reader returns.
  assert.equal(typeof planPortBudget(host, LOAD).ok, 'boolean');
});
