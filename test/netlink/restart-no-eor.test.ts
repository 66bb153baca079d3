/**
 * A ToR that never sends End-of-RIB (issue 11 item 1, SPEC.md "Readiness"), once per kind of ToR
 * (the table TORS, the same steps and assertions): FRR 8.4 with `bgp graceful-restart disable-eor`
 * and `bgp graceful-restart-disable` (a peer advertising graceful restart owes End-of-RIB, SPEC.md
 * "Readiness"), as many ToRs behave, and a raw BGP speaker from the test helpers (raw-tor.ts: a plain OPEN
 * without graceful restart, UPDATEs, never an End-of-RIB), so the behaviour is shown not to depend
 * on FRR. The real agent in a namespace learns 2,000 /26 from it.
 * - `agentctl wait` returns 0: the initial table is complete once the ToR has sent no UPDATE for
 *   bgp.endOfRibQuietTime (3 s here), not never.
 * - SIGKILL, the ToR withdraws one route while the agent is down (it is not announced on the next
 *   session), the agent starts again: the withdrawn route leaves the kernel within seconds
 *   (restartTime is 120 s, and the test allows 30 s), and it is the only deletion the kernel
 *   watcher records.
 */

import test, { type ExecutionContext } from 'ava';
import { formatPrefix } from '../../agent/bgp/prefix.js';
import { Agent, type ConfigDoc } from '../helpers/agent.js';
import type { DaemonOptions } from '../helpers/bgp-daemon.js';
import { Frr } from '../helpers/frr.js';
import { kernelRoutes, RouteWatcher } from '../helpers/kernel-watch.js';
import { isRoot, Lab, rootSkipReason, waitFor } from '../helpers/netns.js';
import { RawTor } from '../helpers/raw-tor.js';

const nsTest = isRoot ? test.serial : test.serial.skip;
if (!isRoot) test('restart without End-of-RIB', (t) => t.log(`skipped: ${rootSkipReason}`));

const TOR = '10.0.3.1';
const NODE = '10.0.3.11';
const AS = 64512;
const OWN = '172.31.255.192/26';
const COUNT = 2_000;
const LEARNED = Array.from({ length: COUNT }, (_, i) => formatPrefix({ afi: 1, len: 26, addr: (((172 << 24) | (16 << 16)) >>> 0) + i * 64 }));
const WITHDRAWN = LEARNED[1234];
const QUIET = 3;

const torOptions = (routes: readonly string[]): DaemonOptions => ({
  routerId: TOR,
  localAs: AS,
  endOfRib: false,
  neighbors: [{ address: NODE, as: AS, localAddress: TOR, connectRetry: 1, families: ['ipv4'] }],
  routes: { ipv4: routes },
});

const agentDoc: ConfigDoc = {
  node: { name: 'n0', ipv4Address: `${NODE}/24` },
  bgp: { asNumber: AS, holdTime: 9, endOfRibQuietTime: QUIET, gracefulRestart: { enabled: true, restartTime: 120 }, peers: [{ peerIP: TOR, asNumber: AS }] },
  pools: [{ cidr: '172.16.0.0/12', blockSize: 26, ipipMode: 'Never' }],
  blocks: [OWN],
};

/** A ToR without End-of-RIB, whichever it is. */
interface NoEorTor {
  /** The ToR's part in bringing the node's new session up (the raw speaker answers it; FRR: nothing). */
  serve(): Promise<void>;
  established(): Promise<boolean>;
  /** The routes it announces from now on (FRR: at once; the raw speaker: on the next session). */
  announce(routes: readonly string[]): Promise<void>;
  logs(): string;
  dispose(): Promise<void>;
}

interface TorSetup {
  readonly name: string;
  readonly lab: string;
  start(lab: Lab, ns: string): Promise<NoEorTor>;
}

const TORS: readonly TorSetup[] = [
  {
    name: 'FRR 8.4 (disable-eor)',
    lab: 'noeorfrr',
    async start(lab, ns) {
      const frr = await Frr.start(lab, ns, { ...torOptions(LEARNED), zebra: false });
      return {
        serve: async () => undefined,
        established: async () => (await frr.neighbor(NODE)).established,
        announce: (routes) => frr.reconfigure(torOptions(routes)),
        logs: () => frr.logs(),
        dispose: () => frr.dispose(),
      };
    },
  },
  {
    name: 'a raw BGP speaker',
    lab: 'noeorraw',
    async start(lab, ns) {
      const raw = await RawTor.start(lab, ns, { asn: AS, routerId: TOR, routes: LEARNED });
      return {
        serve: () => raw.serve(),
        established: async () => raw.established(),
        announce: async (routes) => raw.announce(routes),
        logs: () => raw.logs(),
        dispose: async () => undefined,
      };
    },
  },
];

interface World {
  readonly lab: Lab;
  readonly nodeNs: string;
  readonly tor: NoEorTor;
  readonly agent: Agent;
}
const worlds = new Map<string, Promise<World>>();

/** The lab of one ToR setup, built by its first test and shared by the second. */
function world(setup: TorSetup): Promise<World> {
  let w = worlds.get(setup.name);
  if (w === undefined) {
    w = build(setup);
    worlds.set(setup.name, w);
  }
  return w;
}

async function build(setup: TorSetup): Promise<World> {
  const lab = await Lab.create(setup.lab);
  try {
    const torNs = await lab.namespace('tor');
    const nodeNs = await lab.namespace('node');
    await lab.veth(torNs, `${TOR}/24`, nodeNs, `${NODE}/24`);
    const tor = await setup.start(lab, torNs);
    const agent = await Agent.start(lab, nodeNs, agentDoc);
    await tor.serve();
    return { lab, nodeNs, tor, agent };
  } catch (err) {
    await lab.destroy();
    throw err;
  }
}

test.after.always(async () => {
  for (const p of worlds.values()) {
    const w = await p.catch(() => undefined);
    await w?.agent.dispose().catch(() => undefined);
    await w?.tor.dispose().catch(() => undefined);
    await w?.lab.destroy();
  }
});

function context(t: ExecutionContext, w: World): void {
  t.log(w.agent.logs().split('\n').slice(-50).join('\n'));
  t.log(w.tor.logs().split('\n').slice(-30).join('\n'));
}

async function wait(t: ExecutionContext, w: World, seconds: number): Promise<void> {
  const r = await w.agent.ctl(['wait', '--timeout', String(seconds)]);
  if (r.status !== 0) context(t, w);
  t.is(r.status, 0, `agentctl wait: ${r.stdout}${r.stderr}`);
}

for (const setup of TORS) {
  nsTest(`${setup.name}, a ToR without End-of-RIB: agentctl wait returns 0 after the quiet time`, async (t) => {
    const w = await world(setup);
    await wait(t, w, 30);
    t.is((await kernelRoutes(w.lab, w.nodeNs)).size, COUNT + 1, 'every learned route and our blackhole');
    t.notRegex(w.agent.logs(), /End-of-RIB: the initial table is complete/, 'the ToR sent no End-of-RIB');
    // A table of a few large UPDATEs: no UPDATE, or fewer than 2 a second, over the quiet time.
    t.regex(w.agent.logs(), /no End-of-RIB, and (no UPDATE for|fewer than 2 UPDATEs a second over) the quiet time: the initial table is complete/);
  });

  nsTest(`${setup.name}: SIGKILL, one route withdrawn meanwhile: it leaves the kernel within seconds, nothing else does`, async (t) => {
    const w = await world(setup);
    await wait(t, w, 30);
    const before = await kernelRoutes(w.lab, w.nodeNs);
    t.is(before.size, COUNT + 1);
    const watcher = new RouteWatcher(w.lab, w.nodeNs);
    try {
      await watcher.sync();
      await w.agent.kill('SIGKILL');
      await waitFor(async () => !(await w.tor.established()), { timeoutMs: 20_000, what: 'the ToR to notice the agent is gone' });
      await w.tor.announce(LEARNED.filter((p) => p !== WITHDRAWN));

      const started = Date.now();
      await w.agent.launch();
      await w.tor.serve();
      await waitFor(async () => !(await kernelRoutes(w.lab, w.nodeNs)).has(WITHDRAWN), { timeoutMs: 30_000, what: 'the withdrawn route to leave the kernel (restartTime is 120 s)' });
      t.log(`${setup.name}: the withdrawn route left the kernel ${((Date.now() - started) / 1000).toFixed(1)} s after the restart`);
      await wait(t, w, 30);
      await watcher.sync();
      t.deepEqual(watcher.deletions(), [WITHDRAWN], 'the only deletion is the withdrawn route');
      const after = await kernelRoutes(w.lab, w.nodeNs);
      t.deepEqual([...before].filter(([p, line]) => p !== WITHDRAWN && after.get(p) !== line), [], 'every other route unchanged');
      t.is(after.size, COUNT);
    } catch (err) {
      context(t, w);
      throw err;
    } finally {
      watcher.stop();
    }
  });
}
