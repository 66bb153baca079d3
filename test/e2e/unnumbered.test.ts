/**
 * BGP unnumbered (issue 22, SPEC "Unnumbered peers and dual-homing") end to end against BIRD 2:
 * the node's only link carries nothing but the kernel's link-local IPv6 addresses. The agent's
 * peer is `interface: <dev>`, `asNumber: external`; BIRD's is the node's link-local address with
 * `interface` and `extended next hop on`. The agent finds BIRD as its neighbour on the link (BIRD's
 * neighbour discovery or its connection; BIRD sends no router advertisements), one session carries
 * IPv4 and IPv6, and:
 * - `agentctl status` names the peer `dev (fe80::...)`, JSON `address` the interface, `linkLocal`;
 * - BIRD's IPv4 and IPv6 blocks land in the node's kernel via BIRD's link-local address on the
 *   device (IPv4: `via inet6`, RTA_VIA);
 * - BIRD learns the node's IPv4 and IPv6 blocks with the node's link-local next hop;
 * - the link going down ends the session and removes the routes; up again, all comes back.
 */
import test from 'ava';
import type { StatusAnswer } from '../../agent/control/api.js';
import { Agent } from '../helpers/agent.js';
import { Bird } from '../helpers/bird.js';
import { Frr } from '../helpers/frr.js';
import type { NeighborOptions } from '../helpers/bgp-daemon.js';
import { useLab } from '../helpers/lab-fixture.js';
import { unnumberedLink } from '../helpers/link-local.js';
import { isRoot, type Lab, rootSkipReason, waitFor } from '../helpers/netns.js';

const nsTest = isRoot ? test.serial : test.serial.skip;
if (!isRoot) test('unnumbered test', (t) => t.log(`skipped: ${rootSkipReason}`));

const TOR_BLOCK = '192.168.92.0/26';
const TOR_BLOCK6 = 'fd00:92::/122';
const NODE_BLOCK = '192.168.93.0/26';
const NODE_BLOCK6 = 'fd00:93::/122';

async function kernelRoutes(lab: Lab, ns: string, family: '-4' | '-6'): Promise<string> {
  return (await lab.ip(ns, family, 'route', 'show', 'proto', '201')).stdout;
}

nsTest('BIRD 2 over a link with link-local addresses only: interface peer, both families, link down and up', async (t) => {
  t.timeout(90_000);
  const lab = await useLab(t, 'unnum');
  const torNs = await lab.namespace('tor');
  const nodeNs = await lab.namespace('node');
  const { torDev, nodeDev, torLl, nodeLl } = await unnumberedLink(lab, torNs, nodeNs);
  const neighbor: NeighborOptions = { address: `${nodeLl}%${torDev}`, name: 'node', as: 65093, connectRetry: 1, families: ['ipv4', 'ipv6'], extendedNextHop: true };
  const bird = await Bird.start(lab, torNs, { routerId: '10.92.255.1', localAs: 65092, routes: { ipv4: [TOR_BLOCK], ipv6: [TOR_BLOCK6] }, neighbors: [neighbor] });
  const agent = await Agent.start(lab, nodeNs, {
    // Addresses on no link: the router id's and the node's own; the session uses link-local ones.
    node: { name: 'n0', ipv4Address: '10.92.255.2/32', ipv6Address: 'fd00:92:ffff::2/128' },
    bgp: { asNumber: 65093, peers: [{ interface: nodeDev, asNumber: 'external' }] },
    pools: [{ cidr: '192.168.0.0/16', blockSize: 26, ipipMode: 'Never' }, { cidr: 'fd00::/16', blockSize: 122 }],
    blocks: [NODE_BLOCK, NODE_BLOCK6],
    log: { level: 'info' },
  });

  const established = async (): Promise<StatusAnswer['peers'][number] | undefined> => {
    const r = await agent.ctl(['status', '-o', 'json']);
    const peer = r.status === 0 ? (JSON.parse(r.stdout) as StatusAnswer).peers.find((p) => p.address === nodeDev) : undefined;
    return peer?.state === 'Established' ? peer : undefined;
  };
  const peer = await waitFor(established, { timeoutMs: 30_000, what: 'the interface peer Established' });
  t.is(peer.linkLocal, torLl, 'JSON: address is the interface, linkLocal the neighbour');
  t.is(peer.asNumber, 65092, 'the AS learned from the OPEN (asNumber: external)');
  t.true(peer.capabilities?.includes('extended next hop ipv4'), JSON.stringify(peer.capabilities));
  const text = (await agent.ctl(['status'])).stdout;
  t.true(text.includes(`${nodeDev} (${torLl})`), text);

  const want4 = `${TOR_BLOCK} via inet6 ${torLl} dev ${nodeDev}`;
  const want6 = `${TOR_BLOCK6} via ${torLl} dev ${nodeDev}`;
  await waitFor(async () => (await kernelRoutes(lab, nodeNs, '-4')).includes(want4) && (await kernelRoutes(lab, nodeNs, '-6')).includes(want6),
    { timeoutMs: 20_000, what: `${want4} and ${want6} in the node's kernel` });
  t.pass('BIRD\'s blocks in the kernel via its link-local address');

  for (const [family, block] of [['ipv4', NODE_BLOCK], ['ipv6', NODE_BLOCK6]] as const) {
    const r = await waitFor(async () => (await bird.routes(family)).find((x) => x.prefix === block), { timeoutMs: 20_000, what: `BIRD to have ${block}` });
    const shown = await bird.birdc('show', 'route', 'all', block);
    t.regex(shown, new RegExp(`via ${nodeLl} on ${torDev}`), shown);
    t.deepEqual(r.asPath, [65093]);
  }

  // agentctl check probes the link-local next hop on its interface and names it.
  const check = JSON.parse((await agent.ctl(['check', '-o', 'json'])).stdout) as { checks: { name: string; target: string; status: string; detail: string }[] };
  const hop = check.checks.filter((c) => c.name === 'nexthop');
  t.log(JSON.stringify(hop));
  t.deepEqual(hop.map((c) => [c.target, c.status]), [[`${torLl}%${nodeDev}`, 'ok']], JSON.stringify(check));

  // The link goes down (the ToR's side, as a pulled cable): session ended, routes gone at once.
  await lab.ip(torNs, 'link', 'set', torDev, 'down');
  await waitFor(async () => !(await kernelRoutes(lab, nodeNs, '-4')).includes(TOR_BLOCK) && !(await kernelRoutes(lab, nodeNs, '-6')).includes(TOR_BLOCK6),
    { timeoutMs: 5_000, what: 'the routes via the link gone after link down' });
  const down = JSON.parse((await agent.ctl(['status', '-o', 'json'])).stdout) as StatusAnswer;
  t.not(down.peers[0]?.state, 'Established', JSON.stringify(down.peers[0]));
  await lab.ip(torNs, 'link', 'set', torDev, 'up');
  await waitFor(established, { timeoutMs: 30_000, what: 'Established again after link up' });
  await waitFor(async () => (await kernelRoutes(lab, nodeNs, '-4')).includes(want4), { timeoutMs: 20_000, what: `${want4} back` });
  t.pass('back after link up');
  t.log(agent.logs().split('\n').filter((l) => /unnumbered/.test(l)).join('\n'));
});

nsTest('FRR 8.4 unnumbered (`neighbor IF interface remote-as external`): it hears our RA, both families both ways', async (t) => {
  t.timeout(90_000);
  const lab = await useLab(t, 'unfrr');
  const torNs = await lab.namespace('tor');
  const nodeNs = await lab.namespace('node');
  const { torDev, nodeDev, torLl, nodeLl } = await unnumberedLink(lab, torNs, nodeNs);
  const frr = await Frr.start(lab, torNs, {
    routerId: '10.94.255.1', localAs: 65094, routes: { ipv4: [TOR_BLOCK], ipv6: [TOR_BLOCK6] },
    neighbors: [{ address: torDev, interface: true, as: 0, connectRetry: 1, families: ['ipv4', 'ipv6'] }],
  });
  const agent = await Agent.start(lab, nodeNs, {
    node: { name: 'n0', ipv4Address: '10.94.255.2/32', ipv6Address: 'fd00:94:ffff::2/128' },
    bgp: { asNumber: 65095, peers: [{ interface: nodeDev, asNumber: 'external' }] },
    pools: [{ cidr: '192.168.0.0/16', blockSize: 26, ipipMode: 'Never' }, { cidr: 'fd00::/16', blockSize: 122 }],
    blocks: [NODE_BLOCK, NODE_BLOCK6],
    log: { level: 'info' },
  });
  const peer = await waitFor(async () => {
    const r = await agent.ctl(['status', '-o', 'json']);
    const p = r.status === 0 ? (JSON.parse(r.stdout) as StatusAnswer).peers.find((x) => x.address === nodeDev) : undefined;
    return p?.state === 'Established' ? p : undefined;
  }, { timeoutMs: 40_000, what: 'the interface peer Established with FRR' });
  t.is(peer.linkLocal, torLl);
  t.is(peer.asNumber, 65094);
  t.true(peer.capabilities?.includes('extended next hop ipv4'), JSON.stringify(peer.capabilities));
  t.true((await frr.neighbor(torDev)).established, 'FRR sees the session Established');

  await waitFor(async () => (await kernelRoutes(lab, nodeNs, '-4')).includes(`${TOR_BLOCK} via inet6 ${torLl} dev ${nodeDev}`)
    && (await kernelRoutes(lab, nodeNs, '-6')).includes(`${TOR_BLOCK6} via ${torLl} dev ${nodeDev}`),
  { timeoutMs: 20_000, what: 'FRR\'s blocks in the node\'s kernel via FRR\'s link-local address' });
  t.pass('FRR\'s blocks installed');
  for (const [family, block] of [['ipv4', NODE_BLOCK], ['ipv6', NODE_BLOCK6]] as const) {
    const shown = await waitFor(async () => {
      const out = await frr.vtysh(`show bgp ${family} unicast ${block} json`);
      return out.includes(nodeLl) ? out : undefined;
    }, { timeoutMs: 20_000, what: `FRR to have ${block} via ${nodeLl}` });
    t.regex(shown, /"used":true/, shown);
  }
});
