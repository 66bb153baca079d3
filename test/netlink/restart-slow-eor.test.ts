/**
 * Issue 19 item 4 (SPEC.md "Readiness"): after OUR restart, a graceful-restart ToR (BIRD 2,
 * `graceful restart on`) that is slow to send its table owes End-of-RIB, and the agent waits for
 * it, not for a quiet period. The real agent in a namespace learns 2,000 /26 from BIRD, is killed
 * with SIGKILL (its routes stay in the kernel) and started again while an nftables rule in the
 * node's namespace drops every TCP segment from the ToR longer than 300 bytes: the OPEN and
 * KEEPALIVE get through, the session comes up, the table (and with it the End-of-RIB and every
 * later segment, TCP being in order) does not. For 8 s, more than twice the quiet time (3 s):
 * - `agentctl wait` does not succeed (exit 1 at its timeout),
 * - no route of the previous run leaves the kernel (a route watcher, proved live, sees no deletion).
 * Then the rule goes, TCP retransmits, the table and End-of-RIB arrive: `agentctl wait` exits 0,
 * the log says End-of-RIB completed the table, and the kernel never lost a route.
 * On the agent before issue 19 the quiet rule declared the table complete 3 s after Established,
 * the FIB deleted the 2,000 routes as stale and `wait` succeeded.
 */

import test from 'ava';
import { formatPrefix } from '../../agent/bgp/prefix.js';
import { Agent, type ConfigDoc } from '../helpers/agent.js';
import { Bird } from '../helpers/bird.js';
import { kernelRoutes, RouteWatcher } from '../helpers/kernel-watch.js';
import { isRoot, Lab, rootSkipReason, waitFor } from '../helpers/netns.js';
import { useLab } from '../helpers/lab-fixture.js';

const nsTest = isRoot ? test.serial : test.serial.skip;
if (!isRoot) test('slow End-of-RIB after our restart', (t) => t.log(`skipped: ${rootSkipReason}`));

const TOR = '10.0.4.1';
const NODE = '10.0.4.11';
const AS = 64512;
const OWN = '172.31.255.192/26';
const COUNT = 2_000;
const LEARNED = Array.from({ length: COUNT }, (_, i) => formatPrefix({ afi: 1, len: 26, addr: (((172 << 24) | (16 << 16)) >>> 0) + i * 64 }));
const QUIET = 3;
/** How long the ToR's table is held back: well over twice the quiet time. */
const HOLD_S = 8;
/** By its path: under npm, node_modules/.bin comes first in PATH and holds @vercel/nft's `nft`. */
const NFT = '/usr/sbin/nft';

const agentDoc: ConfigDoc = {
  node: { name: 'n0', ipv4Address: `${NODE}/24` },
  // holdTime 30: while the ToR's segments are dropped its KEEPALIVEs are held back too.
  bgp: { asNumber: AS, holdTime: 30, endOfRibQuietTime: QUIET, gracefulRestart: { enabled: true, restartTime: 120 }, peers: [{ peerIP: TOR, asNumber: AS }] },
  pools: [{ cidr: '172.16.0.0/12', blockSize: 26, ipipMode: 'Never' }],
  blocks: [OWN],
  log: { level: 'info' },
};


/** In the node's namespace: drops the ToR's TCP segments longer than 300 bytes (UPDATEs), or stops doing so. */
async function holdTable(l: Lab, ns: string, on: boolean): Promise<void> {
  const rules = on
    ? ['add table inet slowtor', 'add chain inet slowtor in { type filter hook input priority -10 ; }', `add rule inet slowtor in ip saddr ${TOR} meta l4proto tcp meta length > 300 counter drop`]
    : ['delete table inet slowtor'];
  for (const rule of rules) await l.exec(ns, NFT, rule.split(' '), { check: true });
}

nsTest('BIRD 2 with graceful restart, slow to send its table after our SIGKILL restart: the agent waits for End-of-RIB, the kernel keeps every route', async (t) => {
  // The fixture stops the agent and BIRD and deletes the namespaces; on failure it logs their tails.
  const lab = await useLab(t, 'sloweor');
  const torNs = await lab.namespace('tor');
  const nodeNs = await lab.namespace('node');
  await lab.veth(torNs, `${TOR}/24`, nodeNs, `${NODE}/24`);
  const tor = await Bird.start(lab, torNs, {
    routerId: TOR,
    localAs: AS,
    neighbors: [{ address: NODE, as: AS, localAddress: TOR, connectRetry: 1, families: ['ipv4'], gracefulRestart: true }],
    routes: { ipv4: LEARNED },
  });
  const agent = await Agent.start(lab, nodeNs, agentDoc);
  const watcher = new RouteWatcher(lab, nodeNs);
  try {
    const first = await agent.ctl(['wait', '--timeout', '40']);
    t.is(first.status, 0, `first start: agentctl wait: ${first.stdout}${first.stderr}`);
    const before = await kernelRoutes(lab, nodeNs);
    t.is(before.size, COUNT + 1, 'every learned route and our blackhole');

    await watcher.sync();
    await agent.kill('SIGKILL');
    await waitFor(async () => !(await tor.neighbor(NODE)).established, { timeoutMs: 20_000, what: 'BIRD to notice the agent is gone' });
    await holdTable(lab, nodeNs, true);
    await agent.launch();
    await agent.waitEstablished([TOR]);

    const held = await agent.ctl(['wait', '--timeout', String(HOLD_S)]);
    t.is(held.status, 1, `agentctl wait must not succeed while End-of-RIB is owed: ${held.stdout}${held.stderr}`);
    t.notRegex(agent.lines().join('\n'), /RIB converged: removing stale routes/, 'the previous run\'s routes are not judged stale');
    await watcher.sync();
    t.deepEqual(watcher.deletions(), [], 'no route left the kernel while the ToR held its table back');

    await holdTable(lab, nodeNs, false);
    const done = await agent.ctl(['wait', '--timeout', '40']);
    t.is(done.status, 0, `agentctl wait once End-of-RIB arrived: ${done.stdout}${done.stderr}`);
    t.regex(agent.lines().join('\n'), /End-of-RIB: the initial table is complete/);
    await watcher.sync();
    t.deepEqual(watcher.deletions(), [], 'no deletion at all');
    t.is((await kernelRoutes(lab, nodeNs)).size, COUNT + 1);
  } finally {
    watcher.stop();
  }
});
