/**
 * Issue 19 item 5 (SPEC.md "Readiness"): a ToR whose table never stops changing. BIRD 2 with
 * `graceful restart off` (no capability, so no End-of-RIB is owed or sent) announces 1,000 /26 and
 * one more prefix that the test flaps once a second (`birdc configure` with and without it), from
 * before the agent starts until the end: the ToR never falls quiet for the quiet time (3 s).
 * `agentctl wait` exits 0 within the documented bound (fewer than 2 UPDATEs a second over the quiet
 * time, or 12 quiet times = 36 s at the latest), and only after the initial table arrived: every
 * one of the 1,000 routes is in the kernel. On the agent before issue 19 every UPDATE restarted the
 * quiet clock and `wait` never succeeded.
 */

import test from 'ava';
import { formatPrefix } from '../../agent/bgp/prefix.js';
import { Agent, type ConfigDoc } from '../helpers/agent.js';
import type { DaemonOptions } from '../helpers/bgp-daemon.js';
import { Bird } from '../helpers/bird.js';
import { kernelRoutes } from '../helpers/kernel-watch.js';
import { isRoot, rootSkipReason } from '../helpers/netns.js';
import { useLab } from '../helpers/lab-fixture.js';

const nsTest = isRoot ? test.serial : test.serial.skip;
if (!isRoot) test('readiness under churn', (t) => t.log(`skipped: ${rootSkipReason}`));

const TOR = '10.0.5.1';
const NODE = '10.0.5.11';
const AS = 64512;
const COUNT = 1_000;
const LEARNED = Array.from({ length: COUNT }, (_, i) => formatPrefix({ afi: 1, len: 26, addr: (((172 << 24) | (16 << 16)) >>> 0) + i * 64 }));
const FLAPPING = '172.20.0.0/26';
const QUIET = 3;
/** The cap of the churn rule (agent/daemon/readiness.ts CAP_QUIET_FACTOR x quiet time), plus the session's start. */
const BOUND_S = 12 * QUIET + 9;

const torOptions = (flapOn: boolean): DaemonOptions => ({
  routerId: TOR,
  localAs: AS,
  neighbors: [{ address: NODE, as: AS, localAddress: TOR, connectRetry: 1, families: ['ipv4'], gracefulRestart: false }],
  routes: { ipv4: flapOn ? [...LEARNED, FLAPPING] : LEARNED },
});

const agentDoc: ConfigDoc = {
  node: { name: 'n0', ipv4Address: `${NODE}/24` },
  bgp: { asNumber: AS, holdTime: 9, endOfRibQuietTime: QUIET, peers: [{ peerIP: TOR, asNumber: AS }] },
  pools: [{ cidr: '172.16.0.0/12', blockSize: 26, ipipMode: 'Never' }],
  blocks: ['172.31.255.192/26'],
  log: { level: 'info' },
};


nsTest('BIRD 2 without graceful restart, one prefix flapping every second: agentctl wait exits 0 within the bound, after the initial table', async (t) => {
  // The fixture stops the agent and BIRD and deletes the namespaces; on failure it logs their tails.
  const lab = await useLab(t, 'churn');
  const torNs = await lab.namespace('tor');
  const nodeNs = await lab.namespace('node');
  await lab.veth(torNs, `${TOR}/24`, nodeNs, `${NODE}/24`);
  const bird = await Bird.start(lab, torNs, torOptions(true));
  let flapping = true;
  let flaps = 0;
  // The load: a reconfiguration a second, each one UPDATE (announce or withdraw) to the agent.
  const churn = (async () => {
    for (let on = false; flapping; on = !on) {
      await bird.reconfigure(torOptions(on));
      flaps++;
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  })();
  try {
    const agent = await Agent.start(lab, nodeNs, agentDoc);
    const started = Date.now();
    const r = await agent.ctl(['wait', '--timeout', String(BOUND_S)]);
    const took = (Date.now() - started) / 1000;
    t.is(r.status, 0, `agentctl wait under churn: ${r.stdout}${r.stderr}`);
    t.log(`ready ${took.toFixed(1)} s after the start, ${flaps} flaps so far`, agent.logs().split('\n').filter((l) => l.includes('initial table is complete')));
    const kernel = await kernelRoutes(lab, nodeNs);
    t.deepEqual(LEARNED.filter((p) => !kernel.has(p)), [], 'the initial table is in the kernel');
    t.notRegex(agent.logs(), /End-of-RIB: the initial table is complete/, 'BIRD without graceful restart sent no End-of-RIB');
    t.regex(agent.logs(), /no End-of-RIB, and fewer than 2 UPDATEs a second over the quiet time: the initial table is complete/);
    t.true(flaps >= 3, 'the ToR was churning while the agent started');
  } finally {
    flapping = false;
    await churn;
  }
});
