/**
 * `agentctl check` with IPIP next hops, and without CAP_NET_RAW (issue 13), against real agents
 * and a BIRD 2 ToR. This kernel has no ipip module (README "IPIP on a kernel without IPIP"):
 * kernel.tunnelDevice names a veth end (`tunx`, MTU 1480 like tunl0 over a 1500 underlay), so
 * routes read back `via 10.0.1.12 dev tunx onlink` as they would on tunl0. What is probed is what
 * the underlay must carry for the tunnel: echoes to the next hop of tunnel MTU + 20 bytes with
 * DF, over the route the kernel has to that address. What cannot be probed here is encapsulation
 * itself (inner packets through a real tunl0 and their decapsulation on the far node).
 */
import test from 'ava';

import { agentctl, Agent, MAIN } from '../helpers/agent.js';
import { useLab } from '../helpers/lab-fixture.js';
import { isRoot, type Lab, waitFor } from '../helpers/netns.js';
import { agentAddress, agentDoc, buildFabric } from '../e2e/fabric.js';
import { check, nexthops, nftInput, rowsText } from './helpers.js';

const ipipDoc = (i: number) => {
  const doc = agentDoc(i);
  return { ...doc, pools: [{ ...doc.pools[0], ipipMode: 'Always' }, doc.pools[1]], kernel: { tunnelDevice: 'tunx' } };
};

async function forwardingOn(lab: Lab, namespaces: readonly string[]): Promise<void> {
  for (const ns of namespaces) {
    await lab.sysctl(ns, 'net.ipv4.ip_forward', 1);
    await lab.sysctl(ns, 'net.ipv6.conf.all.forwarding', 1);
  }
}

test.serial('IPIP next hops on the tunnel device: the tunnel row, tunnel MTU + 20 probes, an underlay black hole, a tunnel MTU too large', async (t) => {
  if (!isRoot) return t.fail('needs root');
  const lab = await useLab(t, 'chkipip');
  const f = await buildFabric(lab, 2, ipipDoc);
  await forwardingOn(lab, f.agentNs);
  const [n0] = f.agents;
  // The tunnel device is missing: the check says so.
  await waitFor(async () => (await n0.status()).peers[0]?.state === 'Established', { timeoutMs: 30_000, what: 'n0 Established' });
  const missing = await check(n0, ['--timeout', '2']);
  t.like(missing.answer.checks.find((c) => c.name === 'tunnel'), { target: 'tunx', status: 'fail', detail: 'missing: IPIP routes cannot be installed' });
  t.is(missing.status, 1);

  for (const ns of f.agentNs) {
    await lab.ip(ns, 'link', 'add', 'tunx', 'mtu', '1480', 'type', 'veth', 'peer', 'name', 'tunx-p', 'mtu', '1480');
    await lab.ip(ns, 'link', 'set', 'tunx-p', 'up');
    await lab.ip(ns, 'link', 'set', 'tunx', 'up');
  }
  await waitFor(async () => (await lab.ip(f.agentNs[0], 'route', 'show', 'proto', '201')).stdout.includes('192.168.0.64/26 via 10.0.1.12 dev tunx onlink'),
    { timeoutMs: 20_000, what: 'the IPIP route on tunx in n0' });
  t.is((await n0.ctl(['wait', '--timeout', '20'])).status, 0);

  const ok = await check(n0, ['--timeout', '3']);
  t.is(ok.status, 0, rowsText(ok.answer));
  t.like(ok.answer.checks.find((c) => c.name === 'tunnel'), { target: 'tunx', status: 'ok', detail: 'up (veth, mtu 1480)' });
  const hop = nexthops(ok.answer).get(agentAddress(1).ipv4);
  t.like(hop, { status: 'ok', detail: `64-byte and 1500-byte DF echoes answered, rtt ${hop?.detail.match(/rtt ([\d.]+ ms)/)?.[1]}; IPIP via tunx: tunnel mtu 1480 + 20` });
  // The IPv6 next hop is not tunnelled (IPIP carries IPv4): its device's MTU.
  t.regex(nexthops(ok.answer).get(agentAddress(1).ipv6)?.detail ?? '', /^64-byte and 1500-byte DF echoes answered, rtt [\d.]+ ms$/);

  // The far node takes nothing above 1,480 bytes: the tunnel's outer packets are black-holed.
  await nftInput(lab, f.agentNs[1], ['meta length > 1480 drop']);
  const hole = await check(n0, ['--timeout', '2']);
  t.is(hole.status, 1, rowsText(hole.answer));
  t.regex(nexthops(hole.answer).get(agentAddress(1).ipv4)?.detail ?? '', /^MTU black hole: 1500-byte probes lost, 64-byte answered .*; IPIP via tunx: tunnel mtu 1480 \+ 20$/);
  await nftInput(lab, f.agentNs[1], []);

  // A tunnel MTU the underlay cannot carry (1500 + 20 on a 1500 link; calico#8953).
  await lab.ip(f.agentNs[0], 'link', 'set', 'tunx', 'mtu', '1500');
  const big = await waitFor(async () => {
    const r = await check(n0, ['--timeout', '2']);
    return /1520-byte/.test(nexthops(r.answer).get(agentAddress(1).ipv4)?.detail ?? '') ? r : undefined;
  }, { timeoutMs: 10_000, what: 'the check to see the new tunnel MTU' });
  t.is(big.status, 1);
  t.like(nexthops(big.answer).get(agentAddress(1).ipv4), { status: 'fail' });
  t.regex(nexthops(big.answer).get(agentAddress(1).ipv4)?.detail ?? '', /^tunnel MTU too large: 1520-byte outer packets exceed this node's path MTU \(EMSGSIZE\)/);
});

test.serial('without CAP_NET_RAW: one failed row "cannot probe: CAP_NET_RAW", exit 1 (never a blind pass); the other checks still run', async (t) => {
  if (!isRoot) return t.fail('needs root');
  const lab = await useLab(t, 'chkcap');
  const f = await buildFabric(lab, 1);
  await forwardingOn(lab, f.agentNs);
  // Stop n0 and run it again, as root but with CAP_NET_RAW gone from its bounding set.
  await f.agents[0].dispose();
  f.agents.length = 0;
  const capless = await Agent.start(lab, f.agentNs[0], agentDoc(0), { launch: false });
  const child = lab.spawn(f.agentNs[0], '/usr/sbin/capsh', ['--drop=cap_net_raw', '--', '-c', `exec ${process.execPath} ${MAIN} --config ${capless.configPath}`]);
  const socket = capless.socket;
  await waitFor(async () => {
    if (child.exitCode !== null) throw new Error(`agent exited ${child.exitCode}`);
    return (await agentctl(socket, ['wait', '--timeout', '1'])).status === 0;
  }, { timeoutMs: 30_000, what: 'the agent without CAP_NET_RAW to converge' });
  const status = (await lab.exec(f.agentNs[0], 'grep', ['CapEff', `/proc/${child.pid}/status`])).stdout;
  t.regex(status, /CapEff:\s+[0-9a-f]+/);
  t.is(BigInt(`0x${status.split(/\s+/)[1]}`) & (1n << 13n), 0n, 'CAP_NET_RAW (13) is not effective');

  const r = await agentctl(socket, ['check', '-o', 'json']);
  const answer = JSON.parse(r.stdout) as import('../../agent/control/api.js').CheckAnswer;
  t.is(r.status, 1, rowsText(answer));
  t.false(answer.ok);
  t.deepEqual(answer.checks.map((c) => [c.name, c.status]), [['sessions', 'ok'], ['fib', 'ok'], ['forwarding', 'ok'], ['forwarding', 'ok'], ['probe', 'fail']]);
  t.is(nexthops(answer).size, 0, 'no next hop is reported as if it had been probed');
  t.like(answer.checks[4], { target: 'CAP_NET_RAW' });
  t.regex(answer.checks[4].detail, /^cannot probe: CAP_NET_RAW .*; \d+ next hops? not checked$/);
  const text = await agentctl(socket, ['check']);
  t.is(text.status, 1);
  t.regex(text.stdout, /\| probe +\| CAP_NET_RAW +\| fail +\| cannot probe: CAP_NET_RAW/);
  t.regex(text.stdout, /^FAIL: .*: probe CAP_NET_RAW$/m);
});
