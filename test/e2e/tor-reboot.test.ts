/**
 * A ToR that reboots without its FIN or RST reaching us (RFC 4724 section 4.2), with the real agent
 * and a BIRD 2 ToR (graceful restart on) in network namespaces. The agent learns the ToR's routes
 * and installs them; then, in the ToR's namespace, an nftables rule drops every segment of the BGP
 * connection's port pair both ways, BIRD is killed (SIGKILL: its kernel's FIN never arrives, nor a
 * RST for our keepalives) and started again at once with `-R` (graceful restart recovery: R and F
 * bits set). The new connection from the ToR while the old one still looks Established must be
 * taken as its restart: the old one closed, the ToR's routes kept as stale in the RIB and in the
 * kernel, the session Established again long before the 90 s hold time (bound here: 30 s), and the
 * stale routes replaced by the re-learned ones at End-of-RIB. A watcher on the route multicast
 * group (`ip monitor route`) proves no route left the kernel.
 * The negative control: BIRD started again without `-R` sends its capability with the F bit clear,
 * so the stale routes go the moment the new session is Established (RFC 4724 section 4.2) and come
 * back with the ToR's UPDATEs: the same watcher sees them deleted.
 * Before RFC 4724 section 4.2 was implemented the new connection got Cease 7 until the hold timer
 * expired, and the hold expiry NOTIFICATION flushed the routes: this test failed on both counts.
 */

import test, { type ExecutionContext } from 'ava';
import { formatPrefix } from '../../agent/bgp/prefix.js';
import { Agent, type ConfigDoc } from '../helpers/agent.js';
import { Bird } from '../helpers/bird.js';
import type { DaemonOptions } from '../helpers/bgp-daemon.js';
import { isRoot, Lab, rootSkipReason, waitFor } from '../helpers/netns.js';
import { kernelRoutes, RouteWatcher } from '../helpers/kernel-watch.js';

const nsTest = isRoot ? test.serial : test.serial.skip;
if (!isRoot) test('ToR reboot tests', (t) => t.log(`skipped: ${rootSkipReason}`));

const TOR = '10.0.2.1';
const NODE = '10.0.2.11';
const AS = 64512;
const HOLD = 90;
/** How soon after the reboot the session must be back: well inside the hold time. */
const BACK_WITHIN_MS = 30_000;
const COUNT = 200;
/** By its path: under npm, node_modules/.bin comes first in PATH and holds @vercel/nft's `nft`. */
const NFT = '/usr/sbin/nft';
const LEARNED = Array.from({ length: COUNT }, (_, i) => formatPrefix({ afi: 1, len: 26, addr: (((172 << 24) | (16 << 16)) >>> 0) + i * 64 }));

const torOptions: DaemonOptions = {
  routerId: TOR,
  localAs: AS,
  // connectRetry 1: BIRD's `connect delay time 1`, so the rebooted ToR dials within a second.
  neighbors: [{ address: NODE, as: AS, localAddress: TOR, connectRetry: 1, holdTime: HOLD, families: ['ipv4'], gracefulRestart: true }],
  routes: { ipv4: LEARNED },
};

const agentDoc: ConfigDoc = {
  node: { name: 'n0', ipv4Address: `${NODE}/24` },
  bgp: { asNumber: AS, holdTime: HOLD, gracefulRestart: { enabled: true, restartTime: 120 }, peers: [{ peerIP: TOR, asNumber: AS }] },
  pools: [{ cidr: '172.16.0.0/12', blockSize: 26, ipipMode: 'Never' }],
  blocks: ['172.31.255.192/26'],
  log: { level: 'info' },
};

/** The BGP connection's port pair as the ToR sees it: its own port and the node's. */
async function bgpPorts(lab: Lab, torNs: string): Promise<{ tor: number; node: number }> {
  return waitFor(async () => {
    const { stdout } = await lab.exec(torNs, 'ss', ['-tnH', 'state', 'established'], { check: true });
    for (const line of stdout.split('\n')) {
      const ends = line.trim().split(/\s+/).filter((x) => /^[\d.]+:\d+$/.test(x));
      if (ends.length !== 2) continue;
      const [local, peer] = ends.map((e) => ({ addr: e.slice(0, e.lastIndexOf(':')), port: Number(e.slice(e.lastIndexOf(':') + 1)) }));
      if (local.addr === TOR && peer.addr === NODE && (local.port === 179 || peer.port === 179)) return { tor: local.port, node: peer.port };
    }
    return undefined;
  }, { timeoutMs: 10_000, what: 'the BGP connection in the ToR\'s namespace' });
}

/** Drops every TCP segment of the port pair in the ToR's namespace, both ways (nftables). */
async function cutConnection(lab: Lab, torNs: string, p: { tor: number; node: number }): Promise<void> {
  const rules = [
    'add table inet reboot',
    'add chain inet reboot in { type filter hook input priority -10 ; }',
    'add chain inet reboot out { type filter hook output priority -10 ; }',
    `add rule inet reboot in ip saddr ${NODE} tcp sport ${p.node} tcp dport ${p.tor} counter drop`,
    `add rule inet reboot out ip daddr ${NODE} tcp sport ${p.tor} tcp dport ${p.node} counter drop`,
  ];
  for (const rule of rules) await lab.exec(torNs, NFT, rule.split(' '), { check: true });
}

/** The packets the rule dropped on the way out of the ToR (its kernel's FIN and retransmissions). */
async function droppedOut(lab: Lab, torNs: string): Promise<number> {
  const { stdout } = await lab.exec(torNs, NFT, ['list', 'chain', 'inet', 'reboot', 'out'], { check: true });
  return Number(/counter packets (\d+)/.exec(stdout)?.[1] ?? 0);
}

function logs(t: ExecutionContext, agent: Agent | undefined, tor: Bird | undefined): void {
  if (agent) t.log(agent.logs().split('\n').slice(-60).join('\n'));
  if (tor) t.log(tor.logs());
}

interface Reboot {
  /** Every deletion the watcher saw in the node's kernel from just before the kill until after convergence. */
  readonly deletions: readonly string[];
  readonly before: ReadonlyMap<string, string>;
  readonly after: ReadonlyMap<string, string>;
}

/**
 * The lab, the agent converged with the ToR's routes, then the reboot: the old connection cut, BIRD
 * killed and started again (`recovery`: with -R), the session Established again within 30 s on the
 * new connection and converged (End-of-RIB included: `agentctl wait`).
 */
async function reboot(t: ExecutionContext, name: string, recovery: boolean): Promise<Reboot> {
  const lab = await Lab.create(name);
  let tor: Bird | undefined;
  let agent: Agent | undefined;
  let watcher: RouteWatcher | undefined;
  try {
    const torNs = await lab.namespace('tor');
    const nodeNs = await lab.namespace('node');
    await lab.veth(torNs, `${TOR}/24`, nodeNs, `${NODE}/24`);
    tor = await Bird.start(lab, torNs, torOptions);
    agent = await Agent.start(lab, nodeNs, agentDoc);
    const a = agent;
    const ready = await a.ctl(['wait', '--timeout', '30']);
    t.is(ready.status, 0, `agentctl wait: ${ready.stdout}${ready.stderr}`);
    const before = await waitFor(async () => {
      const r = await kernelRoutes(lab, nodeNs);
      return r.size === COUNT + 1 ? r : undefined;
    }, { timeoutMs: 20_000, what: 'every route of the ToR and our blackhole in the kernel' });
    t.regex(before.get(LEARNED[7]) ?? '', new RegExp(`via ${TOR.replace(/\./g, '\\.')} `));
    watcher = new RouteWatcher(lab, nodeNs);
    await watcher.sync();

    // The reboot: nothing of the old connection gets through any more, then the ToR dies.
    const ports = await bgpPorts(lab, torNs);
    await cutConnection(lab, torNs, ports);
    const killedAt = Date.now();
    await tor.kill();
    await tor.relaunch({ recovery });

    // BIRD can only be Established on a new connection: it restarted.
    const b = tor;
    await waitFor(async () => {
      const s = await a.status();
      return s.peers[0]?.state === 'Established' && (await b.neighbor(NODE)).established;
    }, { timeoutMs: Math.max(1000, BACK_WITHIN_MS - (Date.now() - killedAt)), what: 'the session Established again on the ToR\'s new connection' });
    const backMs = Date.now() - killedAt;
    t.log(`Established again ${backMs} ms after the ToR was killed (hold time ${HOLD} s)`);
    t.true(backMs < BACK_WITHIN_MS);
    t.regex(a.logs(), /state change Established -> OpenSent, reason: TcpConnectionWhileEstablished/);
    t.regex(a.logs(), /taken as its restart/);
    t.true((await droppedOut(lab, torNs)) > 0, 'the ToR\'s FIN (or its retransmission) was dropped: we never saw it');

    // The ToR's End-of-RIB ends the restart (`agentctl wait` waits for it).
    const again = await a.ctl(['wait', '--timeout', '30']);
    t.is(again.status, 0, `agentctl wait after the reboot: ${again.stdout}${again.stderr}`);
    const after = await waitFor(async () => {
      const r = await kernelRoutes(lab, nodeNs);
      return r.size === COUNT + 1 ? r : undefined;
    }, { timeoutMs: 20_000, what: 'every route of the ToR in the kernel after the reboot' });
    await watcher.sync();
    return { deletions: watcher.deletions(), before, after };
  } catch (err) {
    logs(t, agent, tor);
    throw err;
  } finally {
    watcher?.stop();
    await agent?.dispose().catch(() => undefined);
    await tor?.dispose().catch(() => undefined);
    await lab.destroy();
  }
}

nsTest('a ToR reboot without FIN or RST: the new connection is its restart, Established within 30 s, no route leaves the kernel', async (t) => {
  const r = await reboot(t, 'torreboot', true);
  t.deepEqual(r.deletions, [], 'no route of the ToR left the kernel');
  t.deepEqual(r.after, r.before, 'the kernel is exactly as before the reboot');
});

nsTest('the same reboot with the F bit clear (no -R): the stale routes go at Established and come back', async (t) => {
  const r = await reboot(t, 'torrebootf', false);
  t.log(`${r.deletions.length} deletions of ${COUNT} routes`);
  t.true(r.deletions.length > 0, 'the watcher saw the stale routes go');
  t.deepEqual(r.deletions.filter((p) => !LEARNED.includes(p)), [], 'only routes of the ToR went');
  t.deepEqual(r.after, r.before, 'and every one came back');
});
