/**
 * `agentctl check` end to end (issue 13): the real agent in a three-node fabric on a bridge with a
 * BIRD 2 ToR, probing the real kernel's next hops over raw sockets. Healthy: exit 0, every next
 * hop ok (IPv4 and IPv6). Forwarding off: the forwarding row fails. One node dropping packets of
 * 1,000 bytes and more (nftables `meta length >= 1000 drop`, no ICMP back: what a black hole is):
 * exit 1, that node's next hops named MTU black holes, the others ok. The same node dropping ICMP
 * echo requests: exit 1, named unreachable. Healed: exit 0 again; the BGP sessions stayed up.
 * n0 also runs the probes every second (check.interval 1) into its metrics, at the same time as
 * the agentctl runs: rack_agent_nexthop_up follows, and concurrent probers never take each
 * other's replies (two agentctl checks at once agree).
 */
import test from 'ava';

import { useLab } from '../helpers/lab-fixture.js';
import { isRoot, waitFor } from '../helpers/netns.js';
import { agentAddress, agentDoc, buildFabric, TOR } from '../e2e/fabric.js';
import { check, nexthops, nftInput, rowsText } from './helpers.js';

test.serial('check in a three-node fabric: healthy, forwarding off, MTU black hole, ICMP dropped, healed', async (t) => {
  if (!isRoot) return t.fail('needs root');
  const lab = await useLab(t, 'chk');
  const f = await buildFabric(lab, 3, (i) => (i === 0 ? { ...agentDoc(0), metrics: { listen: '127.0.0.1:9179' }, check: { interval: 1, timeout: 2 } } : agentDoc(i)));
  const scrape = async (): Promise<string> => (await lab.exec(f.agentNs[0], process.execPath, ['-e',
    "fetch('http://127.0.0.1:9179/metrics').then(r => r.text()).then(t => process.stdout.write(t))"], { check: true })).stdout;
  const [n0] = f.agents;
  for (const a of f.agents) t.is((await a.ctl(['wait', '--timeout', '30'])).status, 0);

  // A fresh namespace does not forward: the check says so, and nothing else is wrong.
  const off = await check(n0, ['--timeout', '3']);
  t.is(off.status, 1, rowsText(off.answer));
  t.like(off.answer.checks.find((c) => c.target === 'net.ipv4.ip_forward'), { status: 'fail' });
  for (const ns of f.agentNs) {
    await lab.sysctl(ns, 'net.ipv4.ip_forward', 1);
    await lab.sysctl(ns, 'net.ipv6.conf.all.forwarding', 1);
  }

  const expected = [TOR.ipv4, agentAddress(1).ipv4, agentAddress(2).ipv4, agentAddress(1).ipv6, agentAddress(2).ipv6];
  const healthy = await check(n0, ['--timeout', '3']);
  t.is(healthy.status, 0, rowsText(healthy.answer));
  t.true(healthy.answer.ok);
  t.deepEqual(healthy.answer.checks.slice(0, 4).map((c) => [c.name, c.target, c.status]), [
    ['sessions', '1 peer', 'ok'], ['fib', '6 routes', 'ok'],
    ['forwarding', 'net.ipv4.ip_forward', 'ok'], ['forwarding', 'net.ipv6.conf.all.forwarding', 'ok'],
  ]);
  const hops = nexthops(healthy.answer);
  t.deepEqual([...hops.keys()], expected);
  for (const row of hops.values()) {
    t.is(row.status, 'ok', `${row.target}: ${row.detail}`);
    t.regex(row.detail, /^64-byte and 1500-byte DF echoes answered, rtt \d/);
    t.true(typeof row.rttMs === 'number' && row.rttMs >= 0);
  }
  const text = await n0.ctl(['check']);
  t.is(text.status, 0);
  t.regex(text.stdout, /^\+-+\+-+\+-+\+-+\+\n\| {3}CHECK {4}\| +TARGET +\| STATUS \| +DETAIL +\|\n/);
  t.regex(text.stdout, /\nOK: 9 checks, 9 ok, 0 warn, 0 fail\n$/);

  // The periodic runs feed the metrics.
  await waitFor(async () => /rack_agent_nexthop_up\{nexthop="10\.0\.1\.13"\} 1/.test(await scrape()), { timeoutMs: 10_000, what: 'nexthop_up 1 for 10.0.1.13' });
  t.regex(await scrape(), /rack_agent_nexthop_rtt_seconds_count [1-9]/);

  // n2 drops every packet of 1,000 bytes and more, silently: an MTU black hole.
  const n2 = [agentAddress(2).ipv4, agentAddress(2).ipv6];
  await nftInput(lab, f.agentNs[2], ['meta length >= 1000 counter drop']);
  const hole = await check(n0, ['--timeout', '3']);
  t.is(hole.status, 1, rowsText(hole.answer));
  t.false(hole.answer.ok);
  for (const [target, row] of nexthops(hole.answer)) {
    if (n2.includes(target)) {
      t.is(row.status, 'fail', `${target}: ${row.detail}`);
      t.regex(row.detail, /^MTU black hole: 1500-byte probes lost, 64-byte answered/);
    } else {
      t.is(row.status, 'ok', `${target}: ${row.detail}`);
    }
  }
  // Two at once (and the periodic run): each sees only its own replies.
  const [c1, c2] = await Promise.all([check(n0, ['--timeout', '2']), check(n0, ['--timeout', '2'])]);
  for (const c of [c1, c2]) {
    t.deepEqual([...nexthops(c.answer)].map(([target, row]) => [target, row.status]),
      expected.map((target) => [target, n2.includes(target) ? 'fail' : 'ok']), rowsText(c.answer));
  }
  await waitFor(async () => /rack_agent_nexthop_up\{nexthop="10\.0\.1\.13"\} 0/.test(await scrape()), { timeoutMs: 10_000, what: 'nexthop_up 0 for 10.0.1.13' });
  const holeText = await n0.ctl(['check', '--timeout', '3']);
  t.is(holeText.status, 1);
  t.log(`agentctl check, n2 dropping >= 1000 bytes:\n${holeText.stdout}`);
  t.log(`-o json:\n${JSON.stringify(hole.answer)}`);
  t.regex(holeText.stdout, /\nFAIL: 9 checks, 7 ok, 0 warn, 2 fail: nexthop 10\.0\.1\.13, nexthop fd00:1::13\n$/);

  // n2 drops ICMP echo requests of every size: unreachable.
  await nftInput(lab, f.agentNs[2], ['icmp type echo-request drop', 'icmpv6 type echo-request drop']);
  const dead = await check(n0, ['--timeout', '3']);
  t.is(dead.status, 1, rowsText(dead.answer));
  for (const [target, row] of nexthops(dead.answer)) {
    if (n2.includes(target)) t.regex(row.detail, /^unreachable: 64-byte echo lost \(2 tries, 3 s\)$/, target);
    else t.is(row.status, 'ok', `${target}: ${row.detail}`);
    t.is(row.status, n2.includes(target) ? 'fail' : 'ok');
  }

  // Healed.
  await nftInput(lab, f.agentNs[2], []);
  const healed = await check(n0, ['--timeout', '3']);
  t.is(healed.status, 0, rowsText(healed.answer));
  t.true([...nexthops(healed.answer).values()].every((r) => r.status === 'ok'));
  // The probes never took a session down.
  const s = await n0.status();
  t.is(s.peers[0].state, 'Established');
  t.is(await waitFor(async () => (await n0.status()).fib.inSync, { timeoutMs: 5000, what: 'the FIB in sync' }), true);
});
