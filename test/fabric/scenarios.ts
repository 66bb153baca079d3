/**
 * The fabric lab's fault scenarios and their runner: ToR graceful restart (SIGKILL, then `bird -R`,
 * RFC 4724 restarting speaker with forwarding state kept), ToR freeze (SIGSTOP for 4 s, less than
 * the hold time, and for 12 s, more; then SIGCONT), a node's link down and up (its veth to the rack bridge, for less than
 * the hold time: the kernel flushes routes over the link, the agent must put them back), node agent
 * SIGKILL and restart, and a node's block changed by a config reload. `runAll` builds one fabric per
 * node agent, starts a kernel watcher in every node namespace and the traffic probes (probes.ts)
 * and runs every scenario on it (measure.ts measures). Faults hit rack 0, node 0. The `unnumbered`
 * model (two FRR ToRs per rack) has its own list, `unnumberedScenarios`: the uplink of r0n1 (a probe
 * end) to ToR t0a down 3 s (the ToR's end, as a pulled cable), t0a frozen 4 s (SIGSTOP of bgpd and bfdd: only BFD can
 * tell), t0a's bgpd killed and started again (zebra keeps running; no graceful restart).
 */
import { Lab, waitFor } from '../helpers/netns.js';
import { buildFabric, disposeFabric, type Fabric } from './fabric.js';
import { runScenario, type MeasureOptions, type Scenario, type ScenarioResult } from './measure.js';
import { blockOf, blockOf6, type FabricPlan, linkTo, type NodeAgentKind, probeNodes, torPlans } from './topology.js';
import { spineTorProtocol, torNodeProtocol, torSpineProtocol } from './bird-configs.js';
import { Probes } from './probes.js';
import { kernelBlocks, KernelWatch } from './watch.js';

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * `unnumbered`: ms from `from` until rack 0's probe node routes nothing over its uplink `dev` any
 * more (its traffic on the other uplink alone), polled every 10 ms; -1 if not within `withinMs`.
 * The fault lasts `withinMs` whatever this finds.
 */
async function shrinkMs(f: Fabric, dev: string, from: number, withinMs: number): Promise<number> {
  const n = f.nodes.find((x) => x.plan.name === probeNodes(f.plan)[0].name);
  if (n === undefined) return -1;
  const shrunk = await waitFor(async () => {
    const k = await kernelBlocks(f.lab, n.ns);
    return [...k.values()].every((e) => !e.includes(`%${dev}`)) ? Date.now() - from : undefined;
  }, { timeoutMs: withinMs, intervalMs: 10, what: `${n.plan.name} off ${dev}` }).catch(() => -1);
  await pause(Math.max(0, withinMs - (Date.now() - from)));
  return shrunk;
}

const shrinkNote = (ms: number, dev: string): string => (ms < 0 ? `r0n1 still routed over ${dev} when the fault ended` : `r0n1 off ${dev} (traffic on the other uplink alone) after ${ms} ms`);

/** The node sessions of `unnumbered` ToR t<rack>a (FRR names them by interface). */
function frrNodeSessions(f: Fabric, rack: number): Set<string> {
  return new Set(f.nodes.filter((x) => x.plan.rack === rack).map((n) => `t${rack}a:${linkTo(n.plan.name)}`));
}

/** Every session of ToR t<rack> (t<rack>a in `unnumbered`), and the spine's sessions to it, both families. */
function torSessions(f: Fabric, rack: number): Set<string> {
  const out = new Set<string>();
  if (f.plan.model === 'unnumbered') {
    const t = torPlans(f.plan, rack)[0];
    for (const s of frrNodeSessions(f, rack)) out.add(s);
    for (const a of [t.spineAddress, t.spineAddress6]) out.add(`${t.name}:${a}`);
    for (const fam of ['ipv4', 'ipv6'] as const) out.add(`spine:${spineTorProtocol(rack, fam, t.side)}`);
    return out;
  }
  for (const fam of ['ipv4', 'ipv6'] as const) {
    out.add(`spine:${spineTorProtocol(rack, fam)}`).add(`t${rack}:${torSpineProtocol(fam)}`);
    for (const n of f.nodes.filter((x) => x.plan.rack === rack)) out.add(`t${rack}:${torNodeProtocol(n.plan, fam)}`);
  }
  return out;
}

export const torRestart: Scenario = {
  name: 'ToR graceful restart',
  expectedFlaps: (f) => torSessions(f, 0),
  run: async (f) => {
    const t = f.tors[0].router;
    const at = Date.now();
    await t.kill();
    await t.start(true);
    return at;
  },
};

/**
 * Frozen for `seconds`: below the 9 s hold time no session may drop; above it the nodes' and the
 * spine's hold timers expire (RFC 4271 section 6.5) and those sessions reset. The pause is the
 * fault's duration, not a wait for anything.
 */
export function torFreeze(seconds: number): Scenario {
  let shrunk: number | undefined;
  return {
    name: `ToR freeze ${seconds} s`,
    note: () => (shrunk === undefined ? '' : shrinkNote(shrunk, 'to-t0a')),
    // unnumbered: BFD (300 ms) takes the frozen ToR's node sessions down long before the hold time.
    expectedFlaps: (f) => (seconds >= 9 ? torSessions(f, 0) : f.plan.model === 'unnumbered' ? frrNodeSessions(f, 0) : new Set()),
    run: async (f) => {
      const t = f.tors[0].router;
      t.signal('SIGSTOP');
      if (f.plan.model === 'unnumbered') shrunk = await shrinkMs(f, linkTo(f.tors[0].name), Date.now(), seconds * 1000);
      else await pause(seconds * 1000);
      t.signal('SIGCONT');
      return Date.now();
    },
  };
}

/** Link down for 3 s (below the hold time): TCP survives, the kernel flushes the routes over the link. */
export const linkFlap: Scenario = {
  name: 'node link down 3 s',
  expectedFlaps: () => new Set(),
  run: async (f) => {
    const n = f.nodes[0];
    await f.lab.ip(n.ns, 'link', 'set', 'to-sw0', 'down');
    await pause(3000);
    await f.lab.ip(n.ns, 'link', 'set', 'to-sw0', 'up');
    return Date.now();
  },
};

export const agentKill: Scenario = {
  name: 'node agent SIGKILL+restart',
  expectedFlaps: (f) => new Set([`t0:${torNodeProtocol(f.nodes[0].plan)}`, `t0:${torNodeProtocol(f.nodes[0].plan, 'ipv6')}`]),
  run: async (f) => {
    const n = f.nodes[0];
    const at = Date.now();
    await n.agent.kill();
    await n.agent.restart();
    return at;
  },
};

/** The node's blocks (IPv4 and IPv6) replaced by others (IPAM moved them); every kernel must follow. */
export const blockReload: Scenario = {
  name: 'reload: block changed',
  expectedFlaps: () => new Set(),
  run: async (f) => {
    const n = f.nodes[0];
    n.blocks = n.blocks[0] === n.plan.block ? [blockOf(1000), blockOf6(1000)] : [n.plan.block, n.plan.block6];
    const at = Date.now();
    await n.agent.reload(n.blocks);
    return at;
  },
};

export const allScenarios: readonly Scenario[] = [torRestart, torFreeze(4), torFreeze(12), linkFlap, agentKill, blockReload];

/**
 * `unnumbered`: rack 0's probe node (r0n1: its traffic is measured) loses its uplink to t0a for 3 s,
 * at the ToR's end; its traffic must move to t0b, both ways.
 */
let uplinkShrunk = -1;
export const uplinkDown: Scenario = {
  name: 'one uplink down 3 s',
  expectedFlaps: (f) => new Set([`t0a:${linkTo(probeNodes(f.plan)[0].name)}`]),
  note: () => shrinkNote(uplinkShrunk, 'to-t0a'),
  run: async (f) => {
    const tor = f.tors[0];
    const dev = linkTo(probeNodes(f.plan)[0].name);
    await f.lab.ip(tor.ns, 'link', 'set', dev, 'down');
    uplinkShrunk = await shrinkMs(f, linkTo(tor.name), Date.now(), 3000);
    await f.lab.ip(tor.ns, 'link', 'set', dev, 'up');
    return Date.now();
  },
};

/** `unnumbered`: ToR t0a's bgpd SIGKILLed and started again (zebra and bfdd keep running). */
export const torBgpdRestart: Scenario = {
  name: 'one ToR restarted (bgpd)',
  expectedFlaps: (f) => torSessions(f, 0),
  run: async (f) => {
    const t = f.tors[0].router;
    const at = Date.now();
    await t.kill();
    await t.start();
    return at;
  },
};

export const unnumberedScenarios: readonly Scenario[] = [uplinkDown, torFreeze(4), torBgpdRestart];

export interface RunOptions extends MeasureOptions {
  /** Default allScenarios; a function picks per node agent (BIRD flaps take a second each). */
  readonly scenarios?: readonly Scenario[] | ((kind: NodeAgentKind) => readonly Scenario[]);
  readonly log?: (line: string) => void;
  /** Per node agent: the fabric just built, before any scenario (for per-node costs). */
  readonly onBuilt?: (f: Fabric) => void | Promise<void>;
  /** Traffic probes across the racks (probes.ts); default on. */
  readonly probes?: boolean;
}

/** One fabric per node agent, every scenario on it; namespaces deleted even on failure. */
export async function runAll(plan: FabricPlan, kinds: readonly NodeAgentKind[], opts: RunOptions = {}): Promise<ScenarioResult[]> {
  const results: ScenarioResult[] = [];
  const log = opts.log ?? (() => undefined);
  for (const kind of kinds) {
    const lab = await Lab.create('fab');
    const f: Partial<Fabric> = {};
    const watches: KernelWatch[] = [];
    let probes: Probes | undefined;
    try {
      const t0 = Date.now();
      const built = await buildFabric(lab, plan, kind, f);
      if (opts.probes !== false) probes = Probes.start(built);
      for (const n of built.nodes) watches.push(await KernelWatch.start(lab, n.ns));
      log(`${kind}: ${built.nodes.length} nodes built in ${Date.now() - t0} ms`);
      await probes?.ready(opts.timeoutMs ?? 60_000 + 1000 * built.nodes.length);
      await opts.onBuilt?.(built);
      const list = typeof opts.scenarios === 'function' ? opts.scenarios(kind)
        : opts.scenarios ?? (plan.model === 'unnumbered' ? unnumberedScenarios : allScenarios);
      for (const sc of list) {
        const r = await runScenario(built, watches, sc, opts, probes);
        log(`${kind}: ${sc.name}: p99 ${r.convergence.p99} ms, lost ${r.lostPairs}, resets ${r.resets}, unexpected flaps ${r.unexpectedFlaps.join(',') || 0}, packets lost ${r.packets.lost}/${r.packets.sent}, healthy ${r.healthy.lost}/${r.healthy.sent}${r.error ? `, ERROR ${r.error}` : ''}`);
        results.push(r);
      }
    } finally {
      probes?.stop();
      for (const w of watches) w.stop();
      await disposeFabric(f);
      await lab.destroy();
    }
  }
  return results;
}
