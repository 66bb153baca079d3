/**
 * A ToR that reboots without its FIN or RST reaching us (RFC 4724 section 4.2), with the real agent
 * and a ToR with graceful restart on in network namespaces, once per ToR daemon (the table TORS:
 * BIRD 2 and FRR 8.4, the same steps and assertions). The agent learns the ToR's routes and
 * installs them; then, in the ToR's namespace, an nftables rule drops every segment of the BGP
 * connection's port pair both ways, the ToR is killed (SIGKILL: its kernel's FIN never arrives, nor
 * a RST for our keepalives) and started again at once in graceful restart recovery: BIRD with `-R`,
 * FRR with `bgp graceful-restart preserve-fw-state` (R and F bits set; FRR 8.4's bgpd has no
 * restart flag and sets the R bit itself on every start in restarting mode). The new connection
 * from the ToR while the old one still looks Established must be taken as its restart: the old one
 * closed, the ToR's routes kept as stale in the RIB and in the kernel, the session Established again
 * long before the 90 s hold time (bound here: 30 s), and the stale routes replaced by the
 * re-learned ones at End-of-RIB. A watcher on the route multicast group (`ip monitor route`) proves
 * no route left the kernel.
 * The negative control: the ToR started again without preserving forwarding state (BIRD without
 * `-R`, FRR without `preserve-fw-state`) sends its capability with the F bit clear, so the stale
 * routes go the moment the new session is Established (RFC 4724 section 4.2) and come back with the
 * ToR's UPDATEs: the same watcher sees them deleted.
 * Before RFC 4724 section 4.2 was implemented the new connection got Cease 7 until the hold timer
 * expired, and the hold expiry NOTIFICATION flushed the routes: this test failed on both counts.
 */

import test, { type ExecutionContext } from 'ava';
import { formatPrefix } from '../../agent/bgp/prefix.js';
import { Agent, type ConfigDoc } from '../helpers/agent.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Bird } from '../helpers/bird.js';
import { Capture, decodeCapture } from '../helpers/bgp-capture.js';
import type { BgpDaemon, DaemonOptions } from '../helpers/bgp-daemon.js';
import { Frr } from '../helpers/frr.js';
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

/** A ToR daemon that can crash and come back, in or out of graceful restart recovery. */
type RebootingTor = BgpDaemon & { kill(): Promise<void>; relaunch(o: { recovery?: boolean }): Promise<void> };

interface TorSetup {
  readonly name: string;
  /** Lab name (namespaces), short. */
  readonly lab: string;
  /** What "recovery" and its absence mean for this daemon, for the test titles. */
  readonly recovery: string;
  readonly plain: string;
  start(lab: Lab, ns: string, options: DaemonOptions): Promise<RebootingTor>;
}

const TORS: readonly TorSetup[] = [
  { name: 'BIRD 2', lab: 'rbbird', recovery: '-R', plain: 'no -R', start: (lab, ns, o) => Bird.start(lab, ns, o) },
  // bgpd alone (no zebra, no kernel routes): graceful restart with the F bit needs only its config.
  { name: 'FRR 8.4', lab: 'rbfrr', recovery: 'preserve-fw-state', plain: 'no preserve-fw-state', start: (lab, ns, o) => Frr.start(lab, ns, { ...o, zebra: false, preserveForwarding: true }) },
];

const torOptions: DaemonOptions = {
  routerId: TOR,
  localAs: AS,
  // connectRetry 1 (BIRD `connect delay time 1`, FRR `timers connect 1`): the rebooted ToR dials at once.
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

function logs(t: ExecutionContext, agent: Agent | undefined, tor: BgpDaemon | undefined): void {
  if (agent) t.log(agent.logs().split('\n').slice(-60).join('\n'));
  if (tor) t.log(tor.logs());
}

interface Reboot {
  /** Every deletion the watcher saw in the node's kernel from just before the kill until after convergence. */
  readonly deletions: readonly string[];
  readonly before: ReadonlyMap<string, string>;
  readonly after: ReadonlyMap<string, string>;
  /** The graceful-restart bits of the ToR's OPEN on the new connection, as tshark decoded them. */
  readonly open?: { readonly restarting: boolean; readonly forwarding: readonly boolean[] };
}

/**
 * The lab, the agent converged with the ToR's routes, then the reboot: the old connection cut, the
 * ToR killed and started again (`recovery`: R and F bits), the session Established again within
 * 30 s on the new connection and converged (End-of-RIB included: `agentctl wait`).
 */
async function reboot(t: ExecutionContext, setup: TorSetup, recovery: boolean): Promise<Reboot> {
  const lab = await Lab.create(`${setup.lab}${recovery ? 'r' : 'f'}`);
  let tor: RebootingTor | undefined;
  let agent: Agent | undefined;
  let watcher: RouteWatcher | undefined;
  let capture: Capture | undefined;
  const dir = mkdtempSync(join(tmpdir(), 'rack-agent-reboot-'));
  try {
    const torNs = await lab.namespace('tor');
    const nodeNs = await lab.namespace('node');
    const veth = await lab.veth(torNs, `${TOR}/24`, nodeNs, `${NODE}/24`);
    tor = await setup.start(lab, torNs, torOptions);
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
    capture = new Capture(lab, torNs, veth.a, join(dir, 'reboot.pcap'));
    await capture.ready();
    const ports = await bgpPorts(lab, torNs);
    await cutConnection(lab, torNs, ports);
    const logMark = a.logs().length;
    const killedAt = Date.now();
    await tor.kill();
    await tor.relaunch({ recovery });

    // The ToR can only be Established on a new connection: it restarted.
    const b = tor;
    await waitFor(async () => {
      const s = await a.status();
      return s.peers[0]?.state === 'Established' && (await b.neighbor(NODE)).established;
    }, { timeoutMs: Math.max(1000, BACK_WITHIN_MS - (Date.now() - killedAt)), what: 'the session Established again on the ToR\'s new connection' });
    const backMs = Date.now() - killedAt;
    t.log(`${setup.name}: Established again ${backMs} ms after the ToR was killed (hold time ${HOLD} s)`);
    t.true(backMs < BACK_WITHIN_MS);
    t.regex(a.logs(), /state change Established -> OpenSent, reason: TcpConnectionWhileEstablished/);
    t.regex(a.logs(), /taken as its restart/);
    t.true((await droppedOut(lab, torNs)) > 0, 'the ToR\'s FIN (or its retransmission) was dropped: we never saw it');

    // The ToR's End-of-RIB ends the restart (`agentctl wait` waits for it).
    const again = await a.ctl(['wait', '--timeout', '30']);
    t.is(again.status, 0, `agentctl wait after the reboot: ${again.stdout}${again.stderr}`);
    // A ToR with graceful restart sends End-of-RIB (RFC 4724 section 2): the quiet time must not be what ended it.
    const since = a.logs().slice(logMark);
    t.regex(since, /End-of-RIB: the initial table is complete/, 'the ToR\'s End-of-RIB ended the restart');
    t.notRegex(since, /no End-of-RIB, and/, 'not the rules for a peer without End-of-RIB');
    const after = await waitFor(async () => {
      const r = await kernelRoutes(lab, nodeNs);
      return r.size === COUNT + 1 ? r : undefined;
    }, { timeoutMs: 20_000, what: 'every route of the ToR in the kernel after the reboot' });
    await watcher.sync();
    const cap = capture;
    await waitFor(async () => (await decodeCapture(cap.file, TOR)).some((m) => m.kind === 'open'), { timeoutMs: 10_000, what: 'the ToR\'s OPEN in the capture' });
    await capture.stop();
    const opens = (await decodeCapture(capture.file, TOR)).filter((m) => m.kind === 'open');
    t.is(opens.length, 1, 'one OPEN from the ToR: its new connection');
    return { deletions: watcher.deletions(), before, after, ...(opens[0]?.gr ? { open: opens[0].gr } : {}) };
  } catch (err) {
    logs(t, agent, tor);
    throw err;
  } finally {
    watcher?.stop();
    await capture?.stop().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
    await agent?.dispose().catch(() => undefined);
    await tor?.dispose().catch(() => undefined);
    await lab.destroy();
  }
}

for (const setup of TORS) {
  nsTest(`${setup.name} ToR reboot without FIN or RST (${setup.recovery}): the new connection is its restart, Established within 30 s, no route leaves the kernel`, async (t) => {
    const r = await reboot(t, setup, true);
    t.deepEqual(r.open, { restarting: true, forwarding: [true] }, 'the ToR\'s OPEN: R bit, F bit for IPv4 unicast');
    t.deepEqual(r.deletions, [], 'no route of the ToR left the kernel');
    t.deepEqual(r.after, r.before, 'the kernel is exactly as before the reboot');
  });

  nsTest(`${setup.name}: the same reboot with the F bit clear (${setup.plain}): the stale routes go at Established and come back`, async (t) => {
    const r = await reboot(t, setup, false);
    t.deepEqual(r.open?.forwarding, [false], 'the ToR\'s OPEN: F bit clear for IPv4 unicast');
    t.log(`${setup.name}: ${r.deletions.length} deletions of ${COUNT} routes`);
    t.true(r.deletions.length > 0, 'the watcher saw the stale routes go');
    t.deepEqual(r.deletions.filter((p) => !LEARNED.includes(p)), [], 'only routes of the ToR went');
    t.deepEqual(r.after, r.before, 'and every one came back');
  });
}
