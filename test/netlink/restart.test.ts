/**
 * Restarts without loss (issue 5, must-show 3), with the real agent and a BIRD 2 ToR in network
 * namespaces. The ToR announces 10,000 /26 (inside the agent's pool) and has graceful restart on;
 * the agent owns one block.
 * - SIGKILL: the agent dies with 10,000 learned routes installed, the ToR withdraws one of them
 *   while the agent is down, the agent starts again. A watcher on the route multicast group
 *   (`ip monitor route`, started before the kill) records every deletion: the only one allowed is
 *   the withdrawn route, after convergence; `agentctl wait` exits 0.
 * - SIGTERM: a clean stop leaves every kernel route as it was, and comes back without a deletion.
 * - Both ways, the ToR keeps the agent's block (stale) while the agent is down: BIRD's RIB is polled
 *   throughout, and BIRD installs its BGP routes into the ToR's kernel, where a second watcher would
 *   see even a brief withdrawal. That needs the R and F bits in the agent's OPEN (RFC 4724: with F
 *   clear BIRD flushes the stale routes at once when the session comes back) and a graceful close
 *   (no NOTIFICATION towards a peer without the N bit).
 * The watchers are proven live by a canary route (another protocol's, outside the pools) added
 * and deleted before each check, so a test that saw nothing saw everything.
 */

import test, { type ExecutionContext } from 'ava';
import { setTimeout as delay } from 'node:timers/promises';
import { formatPrefix } from '../../agent/bgp/prefix.js';
import { Agent, type ConfigDoc } from '../helpers/agent.js';
import { Bird } from '../helpers/bird.js';
import { Frr } from '../helpers/frr.js';
import type { DaemonOptions } from '../helpers/bgp-daemon.js';
import { isRoot, Lab, rootSkipReason, waitFor } from '../helpers/netns.js';
import { kernelRoutes, RouteWatcher } from '../helpers/route-watcher.js';

const nsTest = isRoot ? test.serial : test.serial.skip;
if (!isRoot) test('restart tests', (t) => t.log(`skipped: ${rootSkipReason}`));

const TOR = '10.0.2.1';
const NODE = '10.0.2.11';
const AS = 64512;
const OWN = '172.31.255.192/26';
const COUNT = 10_000;
/** 172.16.0.0/26, 172.16.0.64/26, ...: 10,000 blocks of the 172.16.0.0/12 pool. */
const LEARNED = Array.from({ length: COUNT }, (_, i) => formatPrefix({ afi: 1, len: 26, addr: (((172 << 24) | (16 << 16)) >>> 0) + i * 64 }));
const WITHDRAWN = LEARNED[4321];

function torOptions(routes: readonly string[]): DaemonOptions {
  return {
    routerId: TOR,
    localAs: AS,
    installRoutes: true,
    neighbors: [{ address: NODE, as: AS, localAddress: TOR, connectRetry: 1, families: ['ipv4'], gracefulRestart: true }],
    routes: { ipv4: routes },
  };
}

const agentDoc: ConfigDoc = {
  node: { name: 'n0', ipv4Address: `${NODE}/24` },
  bgp: { asNumber: AS, holdTime: 9, gracefulRestart: { enabled: true, restartTime: 30 }, peers: [{ peerIP: TOR, asNumber: AS }] },
  pools: [{ cidr: '172.16.0.0/12', blockSize: 26, ipipMode: 'Never' }],
  blocks: [OWN],
  log: { level: 'info' },
};

/** Polls a daemon's RIB for one prefix (`has`) every 50 ms until stopped; every answer is kept. */
class RibPoll {
  readonly samples: { readonly at: number; readonly present: boolean }[] = [];
  private running = true;
  private readonly done: Promise<void>;

  constructor(private readonly has: () => Promise<boolean>) {
    this.done = this.loop();
  }

  private async loop(): Promise<void> {
    while (this.running) {
      const present = await this.has().catch(() => false);
      this.samples.push({ at: Date.now(), present });
      await delay(50);
    }
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.done.catch(() => undefined);
  }

  get missing(): number {
    return this.samples.filter((s) => !s.present).length;
  }
}

// ---- the lab -------------------------------------------------------------------------------------

interface World {
  readonly lab: Lab;
  readonly torNs: string;
  readonly nodeNs: string;
  readonly tor: Bird;
  readonly agent: Agent;
}

let world: World | undefined;

test.before(async () => {
  if (!isRoot) return;
  const lab = await Lab.create('restart');
  const torNs = await lab.namespace('tor');
  const nodeNs = await lab.namespace('node');
  await lab.veth(torNs, `${TOR}/24`, nodeNs, `${NODE}/24`);
  const tor = await Bird.start(lab, torNs, torOptions(LEARNED));
  const agent = await Agent.start(lab, nodeNs, agentDoc);
  world = { lab, torNs, nodeNs, tor, agent };
});

test.after.always(async () => {
  await world?.agent.dispose().catch(() => undefined);
  await world?.tor.dispose().catch(() => undefined);
  await world?.lab.destroy();
});

/** `agentctl wait` exits 0: every peer Established, the kernel as the RIB says. */
async function converged(t: ExecutionContext, w: World): Promise<void> {
  const r = await w.agent.ctl(['wait', '--timeout', '40']);
  if (r.status !== 0) t.log(w.agent.logs().split('\n').slice(-40).join('\n'), w.tor.logs());
  t.is(r.status, 0, `agentctl wait: ${r.stdout}${r.stderr}`);
}

/** Whether BIRD's RIB holds `prefix` (birdc exits non-zero with `Network not found`). */
async function birdHas(tor: Bird, prefix: string): Promise<boolean> {
  try {
    return (await tor.birdc('show', 'route', prefix)).split('\n').some((l) => l.startsWith(prefix));
  } catch (err) {
    if (String((err as Error).message).includes('Network not found')) return false;
    throw err;
  }
}

/** The ToR has noticed the agent is gone: its session is no longer Established. */
async function torSawSessionEnd(w: World): Promise<string> {
  const n = await waitFor(async () => {
    const s = await w.tor.neighbor(NODE);
    return s.established ? undefined : s;
  }, { timeoutMs: 10_000, what: 'BIRD to notice the session end' });
  return String(n.raw);
}

function failureContext(t: ExecutionContext, w: World): void {
  t.log(w.agent.logs().split('\n').slice(-60).join('\n'));
  t.log(w.tor.logs());
}

/** What watches a restart: deletions in both kernels, and BIRD's RIB for our block. */
interface Observers {
  readonly node: RouteWatcher;
  readonly tor: RouteWatcher;
  readonly poll: RibPoll;
}

async function observe(w: World): Promise<Observers> {
  const node = new RouteWatcher(w.lab, w.nodeNs);
  const tor = new RouteWatcher(w.lab, w.torNs);
  await node.sync();
  await tor.sync();
  return { node, tor, poll: new RibPoll(() => birdHas(w.tor, OWN)) };
}

/** Syncs both watchers (everything until now has been seen), then stops all three. */
async function finish(o: Observers): Promise<void> {
  await o.node.sync();
  await o.tor.sync();
  await o.poll.stop();
}

function release(o: Observers | undefined): void {
  if (o === undefined) return;
  void o.poll.stop();
  o.node.stop();
  o.tor.stop();
}

/**
 * Runs `body` with the observers started, stopping them however it ends; on failure the agent's
 * and BIRD's logs go to the test log.
 */
async function withObservers(t: ExecutionContext, w: World, body: (o: Observers) => Promise<void>): Promise<void> {
  let o: Observers | undefined;
  try {
    await converged(t, w);
    await waitFor(() => birdHas(w.tor, OWN), { timeoutMs: 20_000, what: `BIRD to have ${OWN}` });
    o = await observe(w);
    await body(o);
  } catch (err) {
    failureContext(t, w);
    throw err;
  } finally {
    release(o);
  }
}

nsTest('SIGKILL with 10,000 learned routes: no route disappears, the one withdrawn meanwhile goes', async (t) => {
  const w = world!;
  const before = await waitFor(async () => {
    const r = await kernelRoutes(w.lab, w.nodeNs);
    return r.size === COUNT + 1 ? r : undefined;
  }, { timeoutMs: 30_000, what: 'every learned route and our blackhole in the kernel' });
  t.regex(before.get(OWN) ?? '', /^blackhole /);
  t.regex(before.get(WITHDRAWN) ?? '', new RegExp(`via ${TOR.replace(/\./g, '\\.')} `));
  await withObservers(t, w, async (o) => {
    t.true((await kernelRoutes(w.lab, w.torNs, 'bird')).has(OWN), 'BIRD installed our block in the ToR kernel');

    await w.agent.kill('SIGKILL');
    t.regex(await torSawSessionEnd(w), /Neighbor graceful restart active/);
    // The ToR withdraws one route while nobody is there to hear it.
    await w.tor.reconfigure(torOptions(LEARNED.filter((p) => p !== WITHDRAWN)));
    await waitFor(async () => !(await birdHas(w.tor, WITHDRAWN)), { timeoutMs: 10_000, what: 'BIRD to drop the withdrawn route' });
    t.true(await birdHas(w.tor, OWN), 'BIRD keeps our block (stale) while we are down');
    t.is((await kernelRoutes(w.lab, w.nodeNs)).size, COUNT + 1, 'the kernel keeps every route while the agent is down');

    await w.agent.launch();
    await converged(t, w);
    await waitFor(async () => !(await kernelRoutes(w.lab, w.nodeNs)).has(WITHDRAWN), { timeoutMs: 10_000, what: 'the withdrawn route to leave the kernel' });
    const after = await kernelRoutes(w.lab, w.nodeNs);
    await finish(o);

    t.deepEqual(o.node.deletions(), [WITHDRAWN], 'the only deletion in the agent\'s kernel is the withdrawn route');
    t.is(after.size, COUNT, 'every other route present');
    t.deepEqual([...before].filter(([p, line]) => p !== WITHDRAWN && after.get(p) !== line), [], 'every other route unchanged');
    t.deepEqual(o.tor.deletions(), [], 'our block never left the ToR\'s kernel');
    t.true(o.poll.samples.length > 5, `BIRD polled ${o.poll.samples.length} times`);
    t.is(o.poll.missing, 0, 'our block never left BIRD\'s RIB');
    t.regex(w.agent.logs(), /OPENs announce a graceful restart/);
  });
});

nsTest('SIGTERM: every kernel route stays, the ToR keeps our block, and the restart deletes nothing', async (t) => {
  const w = world!;
  if (!w.agent.running) await w.agent.launch();
  await withObservers(t, w, async (o) => {
    const before = await kernelRoutes(w.lab, w.nodeNs);
    t.true(before.size >= COUNT, `${before.size} routes before the stop`);

    await w.agent.kill('SIGTERM');
    t.regex(w.agent.logs(), /SIGTERM: stopping/);
    // BIRD says `Neighbor graceful restart active`: it holds our routes as stale for our restart time.
    t.regex(await torSawSessionEnd(w), /Neighbor graceful restart active/);
    t.deepEqual(await kernelRoutes(w.lab, w.nodeNs), before, 'the kernel is exactly as before the stop');
    t.true(await birdHas(w.tor, OWN), 'BIRD keeps our block (stale) while we are down');

    await w.agent.launch();
    await converged(t, w);
    t.deepEqual(await kernelRoutes(w.lab, w.nodeNs), before, 'the kernel is exactly as before the restart');
    await finish(o);
    t.deepEqual(o.node.deletions(), [], 'no deletion in the agent\'s kernel');
    t.deepEqual(o.tor.deletions(), [], 'our block never left the ToR\'s kernel');
    t.is(o.poll.missing, 0, 'our block never left BIRD\'s RIB');
    // BIRD 2.0.12 does not send the N bit (RFC 8538): the agent closed without a NOTIFICATION.
    t.regex(w.agent.logs(), /closing the connection without a NOTIFICATION/);
  });
});

/** FRR's paths for `prefix` (its JSON), or undefined when it has none. */
async function frrPaths(frr: Frr, prefix: string): Promise<string | undefined> {
  const text = await frr.vtysh(`show bgp ipv4 unicast ${prefix} json`);
  return /"paths":\s*\[\s*\{/.test(text) ? text : undefined;
}

nsTest('SIGTERM with an FRR ToR (N bit): a soft Administrative Reset, FRR keeps our block as stale', async (t) => {
  const lab = await Lab.create('restartfrr');
  let frr: Frr | undefined;
  let agent: Agent | undefined;
  let poll: RibPoll | undefined;
  try {
    const torNs = await lab.namespace('tor');
    const nodeNs = await lab.namespace('node');
    await lab.veth(torNs, `${TOR}/24`, nodeNs, `${NODE}/24`);
    frr = await Frr.start(lab, torNs, { routerId: TOR, localAs: AS, neighbors: [{ address: NODE, as: AS, localAddress: TOR, connectRetry: 1, families: ['ipv4'] }] });
    agent = await Agent.start(lab, nodeNs, agentDoc);
    const r = await agent.ctl(['wait', '--timeout', '30']);
    t.is(r.status, 0, `agentctl wait: ${r.stdout}${r.stderr}`);
    const f = frr;
    await waitFor(() => frrPaths(f, OWN), { timeoutMs: 20_000, what: `FRR to have ${OWN}` });
    poll = new RibPoll(async () => (await frrPaths(f, OWN)) !== undefined);

    await agent.kill('SIGTERM');
    t.regex(agent.logs(), /sent NOTIFICATION: Cease.*Administrative Reset.*rack-agent stopping/);
    t.notRegex(agent.logs(), /Hard Reset/);
    await waitFor(async () => !(await f.neighbor(NODE)).established, { timeoutMs: 10_000, what: 'FRR to notice the session end' });
    const stale = await frrPaths(f, OWN);
    t.regex(stale ?? 'gone', /"stale":\s*true/, 'FRR keeps our block, marked stale');

    await agent.launch();
    const again = await agent.ctl(['wait', '--timeout', '30']);
    t.is(again.status, 0, `agentctl wait after the restart: ${again.stdout}${again.stderr}`);
    await waitFor(async () => !/"stale":\s*true/.test((await frrPaths(f, OWN)) ?? ''), { timeoutMs: 20_000, what: 'FRR to refresh our block' });
    await poll.stop();
    t.true(poll.samples.length > 5, `FRR polled ${poll.samples.length} times`);
    t.is(poll.missing, 0, 'our block never left FRR\'s RIB');
  } catch (err) {
    if (agent) t.log(agent.logs().split('\n').slice(-40).join('\n'));
    if (frr) t.log(frr.logs());
    throw err;
  } finally {
    await poll?.stop();
    await agent?.dispose().catch(() => undefined);
    await frr?.dispose().catch(() => undefined);
    await lab.destroy();
  }
});
