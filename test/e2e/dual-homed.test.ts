/**
 * Dual-homing over BGP unnumbered (issue 22, SPEC "Unnumbered peers and dual-homing"): a node with
 * two uplinks carrying only link-local addresses, each to its own FRR 8.4 ToR (`neighbor IF
 * interface remote-as external`, one AS for the pair, as RFC 7938 leaf pairs are often numbered).
 * Both ToRs announce the other racks' block; the node must
 * - install it as one ECMP route with a `via inet6 <ToR link-local> dev <uplink>` per uplink;
 * - announce its own blocks to both ToRs, with its link-local next hop on each link;
 * - on one uplink going down, shrink the route to the other uplink in place (a replace: the
 *   `ip monitor` watcher sees no deletion of it), and grow it back when the link returns;
 * - on one ToR's bgpd being killed, shrink the same way (the ToR's session ends, and FRR in its
 *   default helper-only graceful-restart mode preserves no family for us to keep);
 * - on one ToR freezing (SIGSTOP of bgpd and bfdd, link up), shrink by single-hop BFD bound to the
 *   uplink (200 ms x 3), long before the 30 s hold time could say it.
 */
import test from 'ava';
import { Agent } from '../helpers/agent.js';
import { Frr } from '../helpers/frr.js';
import { RouteWatcher } from '../helpers/kernel-watch.js';
import { useLab } from '../helpers/lab-fixture.js';
import { type UnnumberedLink, unnumberedLink } from '../helpers/link-local.js';
import { isRoot, type Lab, rootSkipReason, waitFor } from '../helpers/netns.js';

const nsTest = isRoot ? test.serial : test.serial.skip;
if (!isRoot) test('dual-homed test', (t) => t.log(`skipped: ${rootSkipReason}`));

const REMOTE = '192.168.97.0/26';
const NODE_BLOCK = '192.168.98.0/26';
const NODE_BLOCK6 = 'fd00:98::/122';
/** Single-hop BFD on each uplink, bound to it: 200 ms x 3 (detection in about 600 ms; roomy enough for a loaded CI machine). */
const BFD = { minRxMs: 200, minTxMs: 200, multiplier: 3 };

/** The next hops of `prefix` in the node's kernel, as `LL dev` pairs, sorted. */
async function hops(lab: Lab, ns: string, prefix: string): Promise<string[]> {
  const out = (await lab.ip(ns, '-4', 'route', 'show', prefix, 'proto', '201')).stdout;
  return [...out.matchAll(/via inet6 (\S+) dev (\S+)/g)].map((m) => `${m[1]} ${m[2]}`).sort();
}

nsTest('dual-homed node on two unnumbered uplinks: ECMP over both, shrunk in place on link down and ToR down, and back', async (t) => {
  t.timeout(120_000);
  const lab = await useLab(t, 'dual');
  const node = await lab.namespace('node');
  const tors = [await lab.namespace('tor1'), await lab.namespace('tor2')];
  const links: (UnnumberedLink & { tor: string })[] = [];
  for (const tor of tors) links.push({ tor, ...(await unnumberedLink(lab, tor, node)) });
  const frrs = await Promise.all(links.map((l, i) => Frr.start(lab, l.tor, {
    routerId: `10.97.255.${i + 1}`, localAs: 65097, routes: { ipv4: [REMOTE] },
    neighbors: [{ address: l.torDev, interface: true, as: 0, connectRetry: 1, families: ['ipv4', 'ipv6'], holdTime: 30, bfd: BFD }],
  })));
  const agent = await Agent.start(lab, node, {
    node: { name: 'n0', ipv4Address: '10.97.255.9/32', ipv6Address: 'fd00:97:ffff::9/128' },
    bgp: { asNumber: 65098, holdTime: 30, peers: links.map((l) => ({ interface: l.nodeDev, asNumber: 'external', bfd: { enabled: true, ...BFD } })) },
    pools: [{ cidr: '192.168.0.0/16', blockSize: 26, ipipMode: 'Never' }, { cidr: 'fd00::/16', blockSize: 122 }],
    blocks: [NODE_BLOCK, NODE_BLOCK6],
    log: { level: 'info' },
  });
  const both = links.map((l) => `${l.torLl} ${l.nodeDev}`).sort();
  await waitFor(async () => JSON.stringify(await hops(lab, node, REMOTE)) === JSON.stringify(both), { timeoutMs: 40_000, what: `${REMOTE} via both uplinks` });
  t.pass(`${REMOTE}: ECMP over ${both.join(' and ')}`);
  for (const [i, frr] of frrs.entries()) {
    for (const [family, block] of [['ipv4', NODE_BLOCK], ['ipv6', NODE_BLOCK6]] as const) {
      await waitFor(async () => (await frr.vtysh(`show bgp ${family} unicast ${block} json`)).includes(links[i].nodeLl),
        { timeoutMs: 20_000, what: `tor${i + 1} to have ${block} via ${links[i].nodeLl}` });
    }
  }
  t.pass('both ToRs have the node\'s blocks via its link-local address on their link');

  const watcher = new RouteWatcher(lab, node);
  t.teardown(() => watcher.stop());
  await watcher.sync();
  // Uplink 1 down (the ToR's end, as a pulled cable or a dead port).
  let at = Date.now();
  const took = (what: string): void => {
    t.log(`${what}: ${Date.now() - at} ms`);
    at = Date.now();
  };
  await lab.ip(links[0].tor, 'link', 'set', links[0].torDev, 'down');
  await waitFor(async () => JSON.stringify(await hops(lab, node, REMOTE)) === JSON.stringify([`${links[1].torLl} ${links[1].nodeDev}`]),
    { timeoutMs: 10_000, what: `${REMOTE} shrunk to uplink 2` });
  took('uplink 1 down -> one next hop');
  // The link stays down until the agent has noticed it too (its link poll, every 500 ms): the
  // session on that link ends and the neighbour is heard anew when the link returns.
  await waitFor(() => agent.logs().includes(`unnumbered peer ${links[0].nodeDev}: link down`), { timeoutMs: 5_000, what: 'the agent to log the link down' });
  await lab.ip(links[0].tor, 'link', 'set', links[0].torDev, 'up');
  await waitFor(async () => JSON.stringify(await hops(lab, node, REMOTE)) === JSON.stringify(both), { timeoutMs: 40_000, what: `${REMOTE} via both again after link up` });
  took('uplink 1 up -> both again');
  // ToR 2's bgpd dies.
  await frrs[1].kill();
  await waitFor(async () => JSON.stringify(await hops(lab, node, REMOTE)) === JSON.stringify([`${links[0].torLl} ${links[0].nodeDev}`]),
    { timeoutMs: 15_000, what: `${REMOTE} shrunk to uplink 1 after tor2's bgpd died` });
  took('tor2 bgpd killed -> one next hop');
  await frrs[1].relaunch();
  await waitFor(async () => JSON.stringify(await hops(lab, node, REMOTE)) === JSON.stringify(both), { timeoutMs: 40_000, what: `${REMOTE} via both again after tor2 came back` });
  took('tor2 bgpd back -> both again');
  // ToR 1 frozen (bgpd and bfdd stopped, the link up): only BFD can tell, well inside the 30 s hold time.
  await waitFor(async () => {
    const r = await agent.ctl(['status', '-o', 'json']);
    const peers = (JSON.parse(r.stdout) as { peers: { address: string; state: string; bfd?: { state: string } }[] }).peers;
    return peers.every((p) => p.state === 'Established' && p.bfd?.state === 'Up');
  }, { timeoutMs: 30_000, what: 'both sessions Established with BFD Up' });
  at = Date.now();
  frrs[0].pause();
  await waitFor(async () => JSON.stringify(await hops(lab, node, REMOTE)) === JSON.stringify([`${links[1].torLl} ${links[1].nodeDev}`]),
    { timeoutMs: 5_000, intervalMs: 20, what: `${REMOTE} shrunk to uplink 2 by BFD after tor1 froze (hold time 30 s)` });
  took('tor1 frozen -> one next hop (BFD)');
  frrs[0].resume();
  await waitFor(async () => JSON.stringify(await hops(lab, node, REMOTE)) === JSON.stringify(both), { timeoutMs: 40_000, what: `${REMOTE} via both again after tor1 thawed` });
  took('tor1 thawed -> both again');
  await watcher.sync();
  t.deepEqual(watcher.deletions().filter((p) => p === REMOTE), [], `${REMOTE} was never deleted, only replaced`);
});
