/**
 * The fabric lab's smoke (issue 15), part of npm test: 2 racks x 2 nodes in each model, once with
 * rack-agent and once with BIRD as calico/node runs it; ToR t0 is SIGKILLed and restarted with
 * `bird -R` (graceful restart). Every node's kernel must hold exactly the fabric's blocks afterwards
 * (own block blackholed, rack-mates direct, other racks via the ToR), no block may go missing from
 * a rack-agent node meanwhile (the ToR restarted with its forwarding state; BIRD-as-node's losses
 * are logged), exactly the ToR's 3 sessions and the
 * spine's session to it are reset in each family (IPv4 and IPv6 sessions) and nothing else, UDP
 * probes between the racks' block addresses lose nothing before, during and after the restart,
 * and every namespace is gone at the end. The `unnumbered` model (issue 22) gets one scenario with
 * rack-agent only (about 12-17 s; BIRD-as-node and the ToR faults run in bench:fabric): node r0n1's
 * uplink to ToR t0a down 3 s; no block may lose its last next hop on any node, only that session
 * may reset, and every kernel must be ECMP over both uplinks again after.
 * The plan and the watcher's replay are tested as pure functions first.
 */
import { execFileSync } from 'node:child_process';
import test from 'ava';
import { isRoot, runPrefix } from '../helpers/netns.js';
import { countWindow } from './probes.js';
import { runAll, torRestart, uplinkDown } from './scenarios.js';
import { allNodes, expectedKernel, kernelDiff, nodePlan, probeAddress, probeNodes, torPlans, uplinks } from './topology.js';
import { impact, linkDown, parseRouteLine, serves } from './watch.js';

test('plan: a node expects its own block blackholed, rack-mates direct, other racks via its ToR', (t) => {
  const plan = { racks: 2, nodes: 2, model: 'rr' as const };
  const want = expectedKernel(plan, nodePlan(plan, 0, 0));
  t.deepEqual([...want], [
    ['192.168.0.0/26', 'blackhole'], ['fd00:10::/122', 'blackhole'],
    ['192.168.0.64/26', '10.1.0.12'], ['fd00:10:0:1::/122', 'fd00:1::12'],
    ['192.168.0.128/26', '10.1.0.1'], ['fd00:10:0:2::/122', 'fd00:1::1'],
    ['192.168.0.192/26', '10.1.0.1'], ['fd00:10:0:3::/122', 'fd00:1::1'],
  ]);
  t.deepEqual(probeNodes(plan).map((n) => [n.name, probeAddress(n.block), probeAddress(n.block6)]),
    [['r0n1', '192.168.0.65', 'fd00:10:0:1::1'], ['r1n1', '192.168.0.193', 'fd00:10:0:3::1']]);
  t.is(new Set(allNodes({ racks: 3, nodes: 10, model: 'as-per-rack' }).map((n) => n.as)).size, 30);
  t.deepEqual(kernelDiff(want, new Map([...want].slice(1))), ['192.168.0.0/26 missing (want blackhole)']);
});

test('plan (unnumbered): two ToRs a rack, every other block ECMP via inet6 over both uplinks', (t) => {
  const plan = { racks: 2, nodes: 2, model: 'unnumbered' as const };
  const n = nodePlan(plan, 1, 0);
  t.deepEqual(torPlans(plan, 1).map((x) => [x.name, x.as, x.spineLinkAddress, x.spineAddress6]),
    [['t1a', 65101, '10.250.2.2', 'fd00:ff:3::1'], ['t1b', 65101, '10.250.3.2', 'fd00:ff:4::1']]);
  t.deepEqual(uplinks(plan, n), ['to-t1a', 'to-t1b']);
  const want = expectedKernel(plan, n);
  t.is(want.get(n.block), 'blackhole');
  t.is(want.get('192.168.0.0/26'), 'inet6 fe80%to-t1a,inet6 fe80%to-t1b', 'another rack\'s IPv4 block');
  t.is(want.get('192.168.0.192/26'), 'inet6 fe80%to-t1a,inet6 fe80%to-t1b', 'a rack-mate\'s too: no shared link');
  t.is(want.get('fd00:10::/122'), 'fe80%to-t1a,fe80%to-t1b');
  // What the kernel prints (ip -o) for the shapes: both uplinks, one (shrunk), one dead, numbered.
  const two = '192.168.0.0/26 proto 201 metric 20 \\\tnexthop via inet6 fe80::a0cb:94ff:fea2:1a6f dev to-t1b weight 1 \\\tnexthop via inet6 fe80::cc7a:50ff:fe96:22a0 dev to-t1a weight 1 ';
  t.deepEqual(parseRouteLine(two), ['192.168.0.0/26', 'inet6 fe80%to-t1a,inet6 fe80%to-t1b']);
  t.deepEqual(parseRouteLine('192.168.0.0/26 via inet6 fe80::1 dev to-t1b proto 201 metric 20'), ['192.168.0.0/26', 'inet6 fe80%to-t1b']);
  t.deepEqual(parseRouteLine(two.replace('dev to-t1a weight 1', 'dev to-t1a weight 1 dead linkdown')), ['192.168.0.0/26', 'inet6 fe80%to-t1b']);
  t.deepEqual(parseRouteLine('fd00:10::/122 proto bird metric 32 pref medium\\\tnexthop via fe80::1 dev to-t1a weight 1 \\\tnexthop via fe80::2 dev to-t1b weight 1 '),
    ['fd00:10::/122', 'fe80%to-t1a,fe80%to-t1b']);
  t.deepEqual(parseRouteLine('192.168.0.64/26 via 10.1.0.12 dev to-sw0 proto bird metric 32'), ['192.168.0.64/26', '10.1.0.12'], 'numbered: the gateway alone');
  t.deepEqual(kernelDiff(want, new Map([...want].map(([p, e]) => [p, e === 'blackhole' ? e : e.split(',')[0]]))).length, 6, 'a shrunk route is a difference');
});

test('watcher: route lines, link down, and the replay of a loss', (t) => {
  t.deepEqual(parseRouteLine('Deleted 192.168.0.64/26 via 10.1.0.12 dev to-sw0 proto bird metric 32'), ['192.168.0.64/26', undefined]);
  t.deepEqual(parseRouteLine('blackhole 192.168.0.0/26 proto 201'), ['192.168.0.0/26', 'blackhole']);
  t.is(parseRouteLine('10.1.0.0/24 dev to-sw0 proto kernel scope link src 10.1.0.11'), undefined);
  t.deepEqual(parseRouteLine('fd00:10:0:2::/122 via fd00:1::1 dev to-sw0 proto 201 metric 1024 pref medium'), ['fd00:10:0:2::/122', 'fd00:1::1']);
  t.deepEqual(parseRouteLine('blackhole fd00:10::/122 dev lo proto bird metric 32 pref medium'), ['fd00:10::/122', 'blackhole']);
  t.is(parseRouteLine('fd00:10::1 dev lo proto kernel metric 256 pref medium'), undefined, 'the kernel\'s /128 of an address on lo');
  t.is(parseRouteLine('local 192.168.0.1 dev lo table local proto kernel scope host src 192.168.0.1'), undefined);
  t.is(linkDown('5: to-sw0@if4: <BROADCAST,MULTICAST> mtu 1500 qdisc noqueue state DOWN'), 'to-sw0');
  t.is(linkDown('5: to-sw0@if4: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 state UP'), undefined);
  const want = new Map([['192.168.0.64/26', '10.1.0.12']]);
  const events = [{ at: 110, prefix: '192.168.0.64/26', entry: undefined }, { at: 150, prefix: '192.168.0.64/26', entry: '10.1.0.12' }];
  t.deepEqual(impact(events, want, want, 100, 200, 120), { convergedMs: 30, lost: ['192.168.0.64/26'], lostMs: 40, changes: 2 });
  // A dual-homed node's ECMP route shrunk to one uplink and grown back is no loss; gone, it is.
  const both = 'inet6 fe80%to-t0a,inet6 fe80%to-t0b';
  const ecmp = new Map([['192.168.0.64/26', both]]);
  const shrunk = [{ at: 110, prefix: '192.168.0.64/26', entry: 'inet6 fe80%to-t0b' }, { at: 150, prefix: '192.168.0.64/26', entry: both }];
  t.deepEqual(impact(shrunk, ecmp, ecmp, 100, 200), { convergedMs: 50, lost: [], lostMs: 0, changes: 2 });
  t.deepEqual(impact([{ ...shrunk[0], entry: undefined }, shrunk[1]], ecmp, ecmp, 100, 200).lost, ['192.168.0.64/26']);
  t.false(serves(both, 'inet6 fe80%to-t0c'), 'a next hop it never had');
  t.false(serves('10.1.0.1', '10.1.0.2'));
});

test('probes: a window counts answered, lost (no answer within 1 s) and undecided probes', (t) => {
  const a = [{ sentAt: 100, answeredAt: 101 }, { sentAt: 150 }, { sentAt: 200, answeredAt: 1500 }, { sentAt: 250, answeredAt: 260 }];
  const b = [{ sentAt: 120, answeredAt: 121 }, { sentAt: 2100 }];
  t.deepEqual(countWindow([a, b], 100, 300, 3000), { sent: 5, lost: 2, undecided: 0, perStream: 1 }, 'late answer is a loss');
  t.deepEqual(countWindow([a, b], 0, 3000, 2500), { sent: 6, lost: 2, undecided: 1, perStream: 2 });
  t.deepEqual(countWindow([a, b], 200, 250, 3000), { sent: 1, lost: 1, undecided: 0, perStream: 0 });
});

for (const model of ['rr', 'as-per-rack'] as const) test.serial(`fabric smoke (${model}): ToR graceful restart, rack-agent and BIRD side by side, kernels exact after`, async (t) => {
  if (!isRoot) return t.fail('needs root');
  t.timeout(90_000);
  const results = await runAll({ racks: 2, nodes: 2, model }, ['rack-agent', 'bird'], { scenarios: [torRestart], quietMs: 2000, timeoutMs: 30_000 });
  t.is(results.length, 2);
  for (const r of results) {
    t.is(r.error, '', `${r.kind}: every node's kernel exactly the fabric's blocks`);
    // BIRD-as-node is the comparison, not the subject: once in CI (under load) it lost 4 pairs
    // during the ToR's restart and 14 runs here never reproduced it, so its losses are reported,
    // not asserted (README "The fabric lab"). rack-agent must lose none.
    if (r.kind === 'rack-agent') t.is(r.lostPairs, 0, `rack-agent: no block missing from any kernel during the restart (lost: ${r.lost.join(', ')})`);
    else if (r.lostPairs > 0) t.log(`${r.kind} lost ${r.lostPairs} (node, block) pairs for ${r.lostMs} ms in all: ${r.lost.join(', ')}`);
    t.is(r.resets, 8, `${r.kind}: the ToR's 3 sessions and the spine's session to it were reset, in each family`);
    t.deepEqual(r.unexpectedFlaps, [], `${r.kind}: no other session flapped`);
    // 4 probe streams (2 racks, both families), 3 probes each in the window before and after.
    t.true(r.healthy.sent >= 24, `${r.kind}: probes crossed the fabric (${r.healthy.sent})`);
    t.is(r.healthy.lost, 0, `${r.kind}: a healthy fabric loses no packet`);
    t.true(r.packets.sent > 0, `${r.kind}: probes during the restart`);
    if (r.kind === 'rack-agent') t.is(r.packets.lost, 0, 'rack-agent: no packet lost while the ToR restarts (it keeps forwarding)');
    else if (r.packets.lost > 0) t.log(`${r.kind} lost ${r.packets.lost} of ${r.packets.sent} probes during the restart`);
    t.true(r.rssAfterKb > 0, `${r.kind}: node agents alive at the end`);
  }
  const left = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' }).split('\n').filter((l) => l.startsWith(runPrefix));
  t.deepEqual(left, [], 'every namespace of the lab deleted');
});

test.serial('fabric smoke (unnumbered): a dual-homed node loses an uplink, traffic moves to the other, ECMP again after', async (t) => {
  if (!isRoot) return t.fail('needs root');
  t.timeout(90_000);
  const started = Date.now();
  const results = await runAll({ racks: 2, nodes: 2, model: 'unnumbered' }, ['rack-agent'], { scenarios: [uplinkDown], quietMs: 2000, timeoutMs: 30_000 });
  t.log(`took ${Date.now() - started} ms`);
  const [r] = results;
  t.is(r.error, '', 'every node\'s kernel: every other block ECMP via inet6 over both uplinks again');
  t.is(r.lostPairs, 0, `no block without a next hop on any node meanwhile (lost: ${r.lost.join(', ')})`);
  t.deepEqual(r.unexpectedFlaps, [], 'only the session over the downed link reset');
  t.is(r.resets, 1);
  t.true(r.healthy.sent >= 24 && r.healthy.lost === 0, `a healthy fabric carries every probe (${r.healthy.lost}/${r.healthy.sent})`);
  t.true(r.packets.sent > 0);
  t.log(`probes lost while r0n1's uplink to t0a was down and came back: ${r.packets.lost}/${r.packets.sent}`);
  t.log(r.note);
  t.regex(r.note, /after \d+ ms$/, 'r0n1 moved off the downed uplink while it was down');
  const left = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' }).split('\n').filter((l) => l.startsWith(runPrefix));
  t.deepEqual(left, [], 'every namespace of the lab deleted');
});
