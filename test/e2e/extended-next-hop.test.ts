/**
 * RFC 8950 end to end against BIRD 2.0.12: one IPv6-only session (global IPv6 addresses on a veth,
 * no IPv4 on the link; the node has no IPv4 peer, so the session carries IPv4 too, peer-set.ts)
 * with `ipv4 { extended next hop on; }` on BIRD's side. Both sides negotiate the capability; BIRD
 * shows our IPv4 block with our IPv6 address as next hop (`birdc show route all`), and the agent
 * shows BIRD's IPv4 block with BIRD's IPv6 next hop (`agentctl routes -o json`) and installs it
 * in its kernel as `via inet6` (RTA_VIA, netlink/fib/desired.ts).
 */
import test from 'ava';
import type { RouteAnswer } from '../../agent/control/api.js';
import { Agent } from '../helpers/agent.js';
import { Bird, birdProtocolName } from '../helpers/bird.js';
import type { NeighborOptions } from '../helpers/bgp-daemon.js';
import { useLab } from '../helpers/lab-fixture.js';
import { isRoot, rootSkipReason, waitFor } from '../helpers/netns.js';

const nsTest = isRoot ? test.serial : test.serial.skip;
if (!isRoot) test('extended next hop test', (t) => t.log(`skipped: ${rootSkipReason}`));

const TOR6 = 'fd00:90::1';
const NODE6 = 'fd00:90::2';
const TOR_BLOCK = '192.168.90.0/26';
const NODE_BLOCK = '192.168.91.0/26';

for (const enh of [true, false]) {
  const title = enh
    ? 'BIRD 2 with extended next hop on an IPv6-only session: IPv4 blocks both ways with IPv6 next hops'
    : 'BIRD 2 without extended next hop on an IPv6-only session: no IPv6 next hop for IPv4 either way';
  nsTest(title, async (t) => {
    const lab = await useLab(t, enh ? 'enh' : 'noenh');
    const torNs = await lab.namespace('tor');
    const nodeNs = await lab.namespace('node');
    await lab.veth(torNs, { ipv6: `${TOR6}/64` }, nodeNs, { ipv6: `${NODE6}/64` });
    const neighbor: NeighborOptions = { address: NODE6, as: 65091, localAddress: TOR6, connectRetry: 1, families: ['ipv4', 'ipv6'], extendedNextHop: enh };
    const bird = await Bird.start(lab, torNs, { routerId: '10.90.255.1', localAs: 65090, routes: { ipv4: [TOR_BLOCK] }, neighbors: [neighbor] });
    const agent = await Agent.start(lab, nodeNs, {
      // The IPv4 address is only the router id's source: it is on no link.
      node: { name: 'n0', ipv4Address: '10.90.255.2/32', ipv6Address: `${NODE6}/64` },
      bgp: { asNumber: 65091, peers: [{ peerIP: TOR6, asNumber: 65090 }] },
      pools: [{ cidr: '192.168.0.0/16', blockSize: 26, ipipMode: 'Never' }],
      blocks: [NODE_BLOCK],
      log: { level: 'info' },
    });
    const status = await agent.waitEstablished([TOR6]);
    const caps = status.peers.find((p) => p.address === TOR6)?.capabilities ?? [];
    t.is(caps.includes('extended next hop ipv4'), enh, `agent capabilities: ${caps.join(', ')}`);
    t.true(caps.includes('ipv4 unicast'), 'the IPv6 session carries IPv4');
    const proto = await bird.birdc('show', 'protocols', 'all', birdProtocolName(neighbor));
    const [local, theirs] = proto.split('Neighbor capabilities');
    t.is(/Extended next hop/.test(local ?? '') && /Extended next hop/.test(theirs ?? ''), enh, proto);

    if (!enh) {
      // Without the capability nobody may send an IPv6 next hop for IPv4: we send ours as NEXT_HOP
      // (an IPv4 address on no link: BIRD refuses it as unreachable, it does not matter here), and BIRD
      // has no IPv4 next hop to send for its block, so nothing IPv4 arrives at the agent.
      await waitFor(async () => (await bird.neighbor(NODE6)).established, { timeoutMs: 20_000, what: 'BIRD Established' });
      const routes = JSON.parse((await agent.ctl(['routes', '-o', 'json'])).stdout) as RouteAnswer[];
      t.false(routes.some((r) => r.prefix === TOR_BLOCK && r.nextHops.some((h) => h.via.includes(':'))), JSON.stringify(routes));
      return;
    }

    // BIRD's view of our block: next hop our IPv6 address (RFC 8950), learned from the agent.
    const ours = await waitFor(async () => {
      const r = (await bird.routes('ipv4')).find((x) => x.prefix === NODE_BLOCK);
      return r !== undefined && r.nextHops.length > 0 ? r : undefined;
    }, { timeoutMs: 20_000, what: `BIRD to have ${NODE_BLOCK}` });
    t.deepEqual(ours.nextHops, [NODE6], `birdc show route all ${NODE_BLOCK}`);
    t.deepEqual(ours.asPath, [65091]);
    const shown = await bird.birdc('show', 'route', 'all', NODE_BLOCK);
    t.regex(shown, new RegExp(`via ${NODE6} on `), shown);
    t.log(shown.trim());

    // The agent's view of BIRD's block: BIRD's IPv6 address as next hop.
    const theirsRoute = await waitFor(async () => {
      const r = await agent.ctl(['routes', '-o', 'json']);
      if (r.status !== 0) return undefined;
      return (JSON.parse(r.stdout) as RouteAnswer[]).find((x) => x.prefix === TOR_BLOCK);
    }, { timeoutMs: 20_000, what: `the agent to have ${TOR_BLOCK}` });
    t.log(JSON.stringify(theirsRoute));
    t.log(agent.logs().split('\n').filter((l) => /NEXTHOP|next hop|192\.168\.90/.test(l)).join('\n'));
    t.is(theirsRoute.family, 'ipv4');
    t.deepEqual(theirsRoute.nextHops.map((h) => [h.via, h.peer]), [[TOR6, TOR6]], JSON.stringify(theirsRoute));
    // ... and in the kernel: via inet6 (RTA_VIA), on the link (the kernel resolves the global next hop).
    const kernel = await waitFor(async () => {
      const out = (await lab.ip(nodeNs, '-4', 'route', 'show', TOR_BLOCK)).stdout.trim();
      return out.includes(`via inet6 ${TOR6}`) ? out : undefined;
    }, { timeoutMs: 20_000, what: `${TOR_BLOCK} via inet6 ${TOR6} in the node's kernel` });
    t.regex(kernel, /proto 201|proto rack-agent/, kernel);
    const withdrawn = (await agent.status()).peers.find((p) => p.address === TOR6);
    t.is((withdrawn as { nextHopFamilyWithdrawn?: number } | undefined)?.nextHopFamilyWithdrawn ?? 0, 0);
  });
}
