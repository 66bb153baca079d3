/**
 * RFC 5883 multihop BFD with the real agent in network namespaces, against BIRD 2 and FRR 8.4.
 * Shape 1, a route reflector on a spine reached through a router: node -- rtr -- spine, the
 * spine's address on no connected subnet of the node, so `bfd.multihop: auto` picks multihop
 * (coupling.ts) for the iBGP sessions (IPv4 and IPv6) to it. BIRD runs them as `multihop`
 * sessions with `bfd on` (its BFD follows: multihop, UDP 4784, TTL 64 sent); FRR's bgpd treats an
 * iBGP peer not on a shared network as multihop, and bfdd checks a multihop session's received
 * TTL against its `minimum-ttl` (254 in recent bfdd sources): we send 255. Both come Up; nftables in the node counts our BFD packets by port (4784
 * only, none to 3784); the spine frozen (SIGSTOP) is detected by BFD's detection time, BGP goes down with
 * it, and all comes back after SIGCONT. Then, with BIRD, `bfd.minTtl` by reload (minTtlDropsBird).
 * Shape 2, BIRD's default iBGP: a directly connected BIRD ToR without `direct` runs its BFD as
 * multihop; the agent's peer says `bfd.multihop: on` and the freeze is detected as in bfd-lab.ts.
 * In `npm test`: about 12 s for the three.
 */

import test, { type ExecutionContext } from 'ava';
import { Agent, type ConfigDoc } from '../helpers/agent.js';
import { Bird } from '../helpers/bird.js';
import type { DaemonOptions } from '../helpers/bgp-daemon.js';
import { Frr } from '../helpers/frr.js';
import { useLab } from '../helpers/lab-fixture.js';
import { isRoot, type Lab, rootSkipReason, waitFor } from '../helpers/netns.js';
import { agentDoc, AS, BFD, bfdInterop, nft, nftCounter, V4, V6 } from './bfd-lab.js';

const nsTest = isRoot ? test.serial : test.serial.skip;
if (!isRoot) test('multihop BFD', (t) => t.log(`skipped: ${rootSkipReason}`));

const NODE = '10.0.5.11';
const NODE6 = 'fd00:5::11';
const SPINE = '10.0.6.2';
const SPINE6 = 'fd00:6::2';

/** Counts the node's BFD packets out by destination port. */
const COUNT_PORTS = `table inet bfdports {
  counter multihop { }
  counter singlehop { }
  chain out { type filter hook output priority 0; udp dport 4784 counter name "multihop"; udp dport 3784 counter name "singlehop"; }
}
`;

const doc: ConfigDoc = {
  node: { name: 'n0', ipv4Address: `${NODE}/24`, ipv6Address: `${NODE6}/64` },
  bgp: { asNumber: AS, holdTime: 90, bfd: { enabled: true, ...BFD }, peers: [{ peerIP: SPINE, asNumber: AS }, { peerIP: SPINE6, asNumber: AS }] },
  pools: [{ cidr: '172.16.0.0/12', blockSize: 26, ipipMode: 'Never' }],
  blocks: ['172.31.255.192/26'],
  log: { level: 'info' },
};

/** node -- rtr -- spine, static routes both ways, forwarding on in rtr. */
async function threeHops(lab: Lab): Promise<{ nodeNs: string; spineNs: string }> {
  const nodeNs = await lab.namespace('node');
  const rtrNs = await lab.namespace('rtr');
  const spineNs = await lab.namespace('spine');
  await lab.veth(nodeNs, { ipv4: `${NODE}/24`, ipv6: `${NODE6}/64` }, rtrNs, { ipv4: '10.0.5.1/24', ipv6: 'fd00:5::1/64' });
  await lab.veth(rtrNs, { ipv4: '10.0.6.1/24', ipv6: 'fd00:6::1/64' }, spineNs, { ipv4: `${SPINE}/24`, ipv6: `${SPINE6}/64` });
  await lab.sysctl(rtrNs, 'net.ipv4.ip_forward', 1);
  await lab.sysctl(rtrNs, 'net.ipv6.conf.all.forwarding', 1);
  await lab.ip(nodeNs, 'route', 'add', '10.0.6.0/24', 'via', '10.0.5.1');
  await lab.ip(nodeNs, '-6', 'route', 'add', 'fd00:6::/64', 'via', 'fd00:5::1');
  await lab.ip(spineNs, 'route', 'add', '10.0.5.0/24', 'via', '10.0.6.1');
  await lab.ip(spineNs, '-6', 'route', 'add', 'fd00:5::/64', 'via', 'fd00:6::1');
  return { nodeNs, spineNs };
}

function spineOptions(multihop: number | undefined): DaemonOptions {
  const n = { as: AS, connectRetry: 1, holdTime: 90, bfd: BFD, ...(multihop !== undefined ? { multihop } : {}) };
  return {
    routerId: SPINE,
    localAs: AS,
    neighbors: [{ ...n, address: NODE, localAddress: SPINE, families: ['ipv4'] }, { ...n, address: NODE6, localAddress: SPINE6, families: ['ipv6'] }],
    routes: { ipv4: V4, ipv6: V6 },
  };
}

type Spine = (Bird | Frr) & { bfdState(address: string): Promise<string | undefined> };

const allUp = async (agent: Agent): Promise<boolean> => {
  const s = await agent.status();
  return s.peers.length === 2 && s.peers.every((p) => p.state === 'Established' && p.bfd?.state === 'Up' && p.bfd.remoteState === 'Up');
};

async function multihopSpine(t: ExecutionContext, name: string, start: (lab: Lab, ns: string) => Promise<Spine>, after?: (agent: Agent) => Promise<void>): Promise<void> {
  const lab = await useLab(t, name);
  const { nodeNs, spineNs } = await threeHops(lab);
  const spine = await start(lab, spineNs);
  await nft(lab, nodeNs, COUNT_PORTS);
  const agent = await Agent.start(lab, nodeNs, doc);
  await waitFor(() => allUp(agent), { timeoutMs: 30_000, intervalMs: 200, what: 'both sessions Established with multihop BFD Up on both sides' });
  await waitFor(async () => (await spine.bfdState(NODE)) === 'Up' && (await spine.bfdState(NODE6)) === 'Up', { timeoutMs: 15_000, intervalMs: 200, what: 'the spine to show both BFD sessions Up' });
  for (const p of (await agent.status()).peers) {
    t.like(p.bfd, { mode: 'multihop', state: 'Up', remoteState: 'Up' }, p.address);
    t.true((p.bfd?.detectTimeMs ?? 0) <= 300, `detect time ${p.bfd?.detectTimeMs}`);
  }
  t.deepEqual((await agent.status()).bfd?.drops ?? {}, {}, 'nothing dropped: no TTL check is configured');
  t.true(await nftCounter(lab, nodeNs, 'bfdports', 'multihop') > 0, 'BFD sent to UDP 4784');
  t.is(await nftCounter(lab, nodeNs, 'bfdports', 'singlehop'), 0, 'nothing sent to UDP 3784');
  const detail = await agent.ctl(['peers', SPINE]);
  t.regex(detail.stdout, /BFD path:\s+multihop, UDP 4784/);

  const downLines = () => agent.logs().split('\n').filter((l) => l.includes('BFD state change Up -> Down'));
  const before = downLines().length;
  const t0 = Date.now();
  spine.pause();
  const detect: Record<string, number> = {};
  try {
    await waitFor(() => {
      for (const l of downLines().slice(before)) detect[l.includes(SPINE6) ? 'ipv6' : 'ipv4'] ??= Date.now() - t0;
      return detect.ipv4 !== undefined && detect.ipv6 !== undefined;
    }, { timeoutMs: 5000, intervalMs: 2, what: 'multihop BFD Down on both sessions after SIGSTOP' });
    await waitFor(async () => (await agent.status()).peers.every((p) => p.state !== 'Established'), { timeoutMs: 2000, intervalMs: 5, what: 'both BGP sessions down with BFD' });
    const gone = Date.now() - t0;
    t.log(`${name}: frozen spine detected after ${detect.ipv4} ms (IPv4), ${detect.ipv6} ms (IPv6); BGP down after ${gone} ms`);
    // How fast is logged, not asserted (no timed assertions on a shared machine): the diagnostic says
    // BFD's detection time ended it, not a hold timer.
    for (const p of (await agent.status()).peers) t.regex(p.lastError ?? '', /BFD: neighbor down \(Control Detection Time Expired\)/);
  } finally {
    spine.resume();
  }
  await waitFor(() => allUp(agent), { timeoutMs: 30_000, intervalMs: 200, what: 'BGP and multihop BFD back after SIGCONT' });
  await after?.(agent);
}

/**
 * RFC 5883 section 5's TTL check, configured by reload: BIRD sends multihop BFD with TTL 64 (63
 * here, one router on the way), so `minTtl: 254` drops every packet (counted as TTL) and the
 * sessions go Down; the reason the default is no check.
 */
async function minTtlDropsBird(agent: Agent): Promise<void> {
  agent.writeConfig({ ...doc, bgp: { ...doc.bgp, bfd: { ...doc.bgp.bfd as object, minTtl: 254 } } });
  const reload = await agent.ctl(['reload']);
  if (reload.status !== 0) throw new Error(`reload: ${reload.stdout}${reload.stderr}`);
  await waitFor(async () => {
    const s = await agent.status();
    return (s.bfd?.drops.TTL ?? 0) > 0 && s.peers.every((p) => p.bfd?.state === 'Down' && p.bfd.diagnostic === 'Control Detection Time Expired');
  }, { timeoutMs: 5000, intervalMs: 50, what: 'BIRD\'s TTL 63 packets dropped under minTtl 254, both sessions Down' });
}

nsTest('BIRD 2: a route reflector two hops away runs RFC 5883 multihop BFD (UDP 4784); a frozen spine is detected by BFD’s detection time; minTtl 254 drops its TTL 63', async (t) => {
  await multihopSpine(t, 'bfdmhbird', (lab, ns) => Bird.start(lab, ns, spineOptions(2)), minTtlDropsBird);
});

nsTest('FRR 8.4 bfdd: an iBGP peer two hops away runs multihop BFD (our TTL 255 passes its minimum-ttl check); a frozen spine is detected by BFD’s detection time', async (t) => {
  await multihopSpine(t, 'bfdmhfrr', (lab, ns) => Frr.start(lab, ns, spineOptions(undefined)));
});

nsTest('BIRD 2: a directly connected iBGP ToR without `direct` (BIRD\'s default) and `bfd.multihop: on`: multihop BFD Up, a frozen ToR detected', async (t) => {
  const multihopOn = { ...agentDoc, bgp: { ...agentDoc.bgp, bfd: { ...agentDoc.bgp.bfd as object, multihop: 'on' } } };
  const scenario = {
    name: 'BIRD (iBGP multihop)', lab: 'bfdmhdirect', doc: multihopOn, torUpMs: 10_000,
    // BIRD's own default for iBGP: multihop, TTL 64.
    start: (lab: Lab, ns: string, o: DaemonOptions) => Bird.start(lab, ns, { ...o, neighbors: o.neighbors.map((n) => ({ ...n, multihop: 64 })) }),
    bfdState: (tor: Bird, address: string) => tor.bfdState(address),
  };
  await bfdInterop(t, scenario, async ({ agent, freezeTor }) => {
    for (const p of (await agent.status()).peers) t.like(p.bfd, { mode: 'multihop', state: 'Up' });
    await freezeTor();
  });
});
