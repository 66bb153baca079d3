/**
 * Single-hop BFD bound to an interface over IPv6 link-local addresses (RFC 5881 section 3: the
 * session is keyed by interface), against BIRD 2 (`protocol bfd { neighbor fe80::x dev "veth"
 * local fe80::1; }`). The node and the ToR share two veths with link-local addresses only; the
 * ToR uses fe80::1 on both ports, as unnumbered routers do, so the node has two sessions to the
 * same address that only the interface tells apart. The agent's BFD engine runs in its worker
 * through bfd-driver.ts (BGP interface peers come later), asked for `{ peer: 'fe80::1', interface }`
 * and for the scoped form `fe80::1%dev`. Both come Up on both sides; BFD made silent on one link
 * takes only that link's session down, and it comes back; the ToR frozen (SIGSTOP) is detected
 * on both by BFD's detection time (the time is logged). In `npm test`: about 3 s.
 */

import test from 'ava';
import { fileURLToPath } from 'node:url';
import type { BfdEngineStatus, BfdPeerConfig } from '../../agent/bfd/engine.js';
import type { BfdChange } from '../../agent/bfd/session.js';
import { Bird } from '../helpers/bird.js';
import { useLab } from '../helpers/lab-fixture.js';
import { captureOutput, isRoot, type Lab, rootSkipReason, waitFor } from '../helpers/netns.js';
import { AS, BFD, nft } from './bfd-lab.js';

const nsTest = isRoot ? test.serial : test.serial.skip;
if (!isRoot) test('link-local BFD', (t) => t.log(`skipped: ${rootSkipReason}`));

const DRIVER = fileURLToPath(new URL('./bfd-driver.js', import.meta.url));
const TOR_LL = 'fe80::1';

/** The link-local address of `dev` other than `not`, once the kernel has made one. */
async function linkLocal(lab: Lab, ns: string, dev: string, not = ''): Promise<string> {
  return waitFor(async () => {
    const { stdout } = await lab.ip(ns, '-j', '-6', 'addr', 'show', 'dev', dev, 'scope', 'link');
    const infos = (JSON.parse(stdout) as { addr_info?: { local: string }[] }[]).flatMap((l) => l.addr_info ?? []);
    return infos.map((a) => a.local).find((a) => a !== not);
  }, { timeoutMs: 5000, intervalMs: 50, what: `a link-local address on ${dev}` });
}

const silent = (dev: string) => `table inet silent {
  chain in { type filter hook input priority 0; iifname "${dev}" udp dport 3784 drop; }
  chain out { type filter hook output priority 0; oifname "${dev}" udp dport 3784 drop; }
}
`;

nsTest('BIRD 2: BFD over link-local addresses, keyed by interface: one silent link takes only its session down; a frozen ToR is detected by BFD’s detection time', async (t) => {
  const lab = await useLab(t, 'bfdll');
  const nodeNs = await lab.namespace('node');
  const torNs = await lab.namespace('tor');
  const one = await lab.veth(nodeNs, {}, torNs, {});
  const two = await lab.veth(nodeNs, {}, torNs, {});
  for (const dev of [one.b, two.b]) await lab.ip(torNs, '-6', 'addr', 'add', `${TOR_LL}/64`, 'dev', dev, 'nodad');
  const node1 = await linkLocal(lab, nodeNs, one.a);
  const node2 = await linkLocal(lab, nodeNs, two.a);
  const bird = await Bird.start(lab, torNs, {
    routerId: '10.0.7.1', localAs: AS, neighbors: [],
    bfdNeighbors: { timers: BFD, neighbors: [{ address: node1, dev: one.b, local: TOR_LL }, { address: node2, dev: two.b, local: TOR_LL }] },
  });
  const peers: BfdPeerConfig[] = [
    { key: 'link1', peer: TOR_LL, interface: one.a, local: '', family: 'ipv6', ...BFD },
    { key: 'link2', peer: `${TOR_LL}%${two.a}`, local: '', family: 'ipv6', ...BFD },
  ];
  const output = captureOutput(lab.spawn(nodeNs, process.execPath, [DRIVER, JSON.stringify(peers)]));
  lab.own({ dispose: () => undefined, logs: () => `${output.lines.filter((l) => !l.startsWith('{"status"')).join('\n')}\n${output.stderr()}` });
  const parsed = () => output.lines.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { change?: BfdChange; status?: BfdEngineStatus });
  const status = (): BfdEngineStatus | undefined => parsed().filter((m) => m.status !== undefined).at(-1)?.status;
  const state = (key: string) => status()?.sessions.find((s) => s.key === key)?.state;
  const changes = () => parsed().flatMap((m) => (m.change ? [m.change] : []));

  // Up on our side comes with the ToR's Init (RFC 5880 6.8.6); its Up follows in its next packet, and the status line after that.
  const upBoth = (key: string) => status()?.sessions.find((x) => x.key === key && x.state === 'Up' && x.remoteState === 'Up') !== undefined;
  await waitFor(() => upBoth('link1') && upBoth('link2'), { timeoutMs: 15_000, intervalMs: 100, what: 'both link-local sessions Up on the node, the ToR Up in them' });
  await waitFor(async () => (await bird.bfdState(node1)) === 'Up' && (await bird.bfdState(node2)) === 'Up', { timeoutMs: 10_000, intervalMs: 200, what: 'BIRD to show both sessions Up' });
  const s = status()!;
  t.like(s.sessions.find((x) => x.key === 'link1'), { peer: TOR_LL, interface: one.a, multihop: false, remoteState: 'Up' });
  t.like(s.sessions.find((x) => x.key === 'link2'), { peer: TOR_LL, interface: two.a, multihop: false });
  t.deepEqual(s.drops, {});

  // BFD silent on link one only: its session goes Down, link two's stays Up.
  await nft(lab, torNs, silent(one.b));
  await waitFor(() => state('link1') === 'Down', { timeoutMs: 3000, intervalMs: 10, what: "link one's session Down" });
  t.is(state('link2'), 'Up');
  t.deepEqual(changes().filter((c) => c.key === 'link2' && c.from === 'Up'), [], "link two's session never left Up");
  await nft(lab, torNs, 'delete table inet silent\n');
  await waitFor(() => state('link1') === 'Up', { timeoutMs: 10_000, intervalMs: 50, what: "link one's session Up again" });

  // The far end frozen: both detected within the Detection Time.
  const before = changes().length;
  const t0 = Date.now();
  bird.pause();
  const detect: Record<string, number> = {};
  try {
    await waitFor(() => {
      for (const c of changes().slice(before)) if (c.from === 'Up' && c.to === 'Down') detect[c.key] ??= Date.now() - t0;
      return detect.link1 !== undefined && detect.link2 !== undefined;
    }, { timeoutMs: 5000, intervalMs: 2, what: 'both sessions Down after SIGSTOP' });
  } finally {
    bird.resume();
  }
  t.log(`frozen ToR detected after ${detect.link1} ms (link one), ${detect.link2} ms (link two)`);
  // How fast is logged, not asserted (no timed assertions on a shared machine): the diagnostic says
  // BFD's detection time ended it.
  t.like(changes().slice(before).find((c) => c.key === 'link1' && c.to === 'Down'), { diagText: 'Control Detection Time Expired' });
  await waitFor(() => state('link1') === 'Up' && state('link2') === 'Up', { timeoutMs: 15_000, intervalMs: 100, what: 'both Up again after SIGCONT' });
});
