/**
 * Runs one fault scenario over a converged fabric and measures it: kernel watchers in every node
 * namespace (watch.ts) give, per node, the time from the scenario's reference instant (the fault, or
 * its repair) to its last fabric route change, and the blocks missing or wrong meanwhile; /proc gives
 * node-agent RSS, peak RSS and CPU before and after; the ToRs' and the spine's `show protocols` SINCE
 * gives the sessions that flapped, less those the fault was expected to reset; the traffic probes
 * (probes.ts) give the packets lost from the fault to the end. Every scenario ends with the
 * exactness check (converge.ts) and a quiet period with no route change anywhere; before the fault
 * and after the end a healthy window (every probe stream probed 3 times) counts what a healthy
 * fabric lost, which should be nothing.
 */
import { waitFor } from '../helpers/netns.js';
import { expectedFor, fabricDiff, waitConverged } from './converge.js';
import { procStat } from './daemons.js';
import type { Fabric } from './fabric.js';
import type { PacketCount, Probes } from './probes.js';
import type { KernelEntry, NodeAgentKind } from './topology.js';
import { impact, kernelBlocks, type KernelWatch, type NodeImpact } from './watch.js';

export interface Scenario {
  readonly name: string;
  /** Sessions the fault resets by design, as `<daemon>:<protocol>` (daemon: spine, t0, t1, ...). */
  expectedFlaps(f: Fabric): ReadonlySet<string>;
  /** Injects the fault (and repairs it); resolves with the reference instant for convergence. */
  run(f: Fabric): Promise<number>;
  /** A line for the report after the run (e.g. an RSS trend). */
  note?(): string;
}

export interface Stats {
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
}

export interface ScenarioResult {
  readonly scenario: string;
  readonly kind: NodeAgentKind;
  readonly nodes: number;
  /** Convergence over nodes, ms (0 for a node whose kernel never changed). */
  readonly convergence: Stats;
  readonly nodesChanged: number;
  /** ms from the reference instant until every session was up and every kernel exact (polled every 100 ms). */
  readonly recoveredMs: number;
  /** (node, block) pairs missing or wrong at some moment, and their total time. */
  readonly lostPairs: number;
  readonly lostMs: number;
  /** The lost pairs as `node prefix`, for a failure message. */
  readonly lost: readonly string[];
  readonly rssBeforeKb: number;
  readonly rssAfterKb: number;
  readonly hwmMaxKb: number;
  /** Node-agent CPU over the scenario, summed over nodes, ms. */
  readonly cpuMs: number;
  /** Sessions that were reset (expected or not), from the ToRs' and the spine's SINCE. */
  readonly resets: number;
  readonly unexpectedFlaps: readonly string[];
  /** Probes sent from the fault to the end of the scenario, and lost (zeros without probes). */
  readonly packets: PacketCount;
  /** Probes in the healthy windows just before the fault and just after the end, and lost. */
  readonly healthy: PacketCount;
  readonly note: string;
  /** '' when every kernel held exactly the fabric's blocks at the end. */
  readonly error: string;
}

export function stats(values: readonly number[]): Stats {
  const s = [...values].sort((a, b) => a - b);
  const at = (q: number): number => (s.length === 0 ? 0 : s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)]);
  return { p50: at(0.5), p99: at(0.99), max: s.length === 0 ? 0 : s[s.length - 1] };
}

async function sessionSnapshot(f: Fabric): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const daemons = [['spine', f.spine] as const, ...f.tors.map((t) => [t.name, t.router] as const)];
  for (const [name, bird] of daemons) {
    const s = await bird.sessions().catch(() => new Map<string, { since: string }>());
    for (const [proto, v] of s) out.set(`${name}:${proto}`, v.since);
  }
  return out;
}

const mean = (xs: readonly number[]): number => (xs.length === 0 ? 0 : xs.reduce((a, b) => a + b, 0) / xs.length);

export interface MeasureOptions {
  /** No route change anywhere for this long ends the scenario (after convergence). */
  readonly quietMs?: number;
  readonly timeoutMs?: number;
}

const NO_PACKETS: PacketCount = { sent: 0, lost: 0 };
const add = (a: PacketCount, b: PacketCount): PacketCount => ({ sent: a.sent + b.sent, lost: a.lost + b.lost });

export async function runScenario(f: Fabric, watches: readonly KernelWatch[], sc: Scenario, opts: MeasureOptions = {},
  probes?: Probes): Promise<ScenarioResult> {
  const quietMs = opts.quietMs ?? 3000;
  const timeoutMs = opts.timeoutMs ?? 60_000 + 1000 * f.nodes.length;
  await waitConverged(f, timeoutMs);
  const healthyBefore = probes !== undefined ? await probes.healthy(Date.now()) : NO_PACKETS;
  const before = new Map<string, Map<string, KernelEntry>>();
  for (const n of f.nodes) before.set(n.ns, await kernelBlocks(f.lab, n.ns));
  const sessionsBefore = await sessionSnapshot(f);
  const pidsBefore = f.nodes.map((n) => n.agent.pid());
  const procBefore = pidsBefore.map(procStat);
  const since = Date.now();
  const expectedBefore = new Map(f.nodes.map((n) => [n.ns, expectedFor(f, n)]));
  const ref = await sc.run(f);
  let error = '';
  let recoveredMs = -1;
  try {
    await waitConverged(f, timeoutMs);
    recoveredMs = Math.max(0, Date.now() - ref);
    await waitFor(() => Date.now() - Math.max(ref, ...watches.map((w) => w.events.at(-1)?.at ?? 0)) >= quietMs,
      { timeoutMs, intervalMs: 100, what: `${quietMs} ms without a route change after ${sc.name}` });
    const diff = await fabricDiff(f);
    if (diff.size > 0) error = [...diff].map(([n, d]) => `${n}: ${d.join('; ')}`).join(' | ');
  } catch (err) {
    error = (err as Error).message;
  }
  const until = Date.now();
  const packets = probes !== undefined ? await probes.count(since, until) : NO_PACKETS;
  const healthyAfter = probes !== undefined ? await probes.healthy(Date.now()) : NO_PACKETS;
  const procAfter = f.nodes.map((n) => procStat(n.agent.pid()));
  const sessionsAfter = await sessionSnapshot(f);
  const expected = sc.expectedFlaps(f);
  const reset = [...sessionsBefore].filter(([k, v]) => sessionsAfter.get(k) !== v).map(([k]) => k);
  const unexpectedFlaps = reset.filter((k) => !expected.has(k));
  const impacts: NodeImpact[] = f.nodes.map((n, i) => {
    const w = watches[i];
    // A reload changes what is expected: losses count only for blocks expected before and after.
    const after = expectedFor(f, n);
    const want = new Map([...(expectedBefore.get(n.ns) ?? [])].filter(([p, e]) => after.get(p) === e));
    return impact(w.events, before.get(n.ns) ?? new Map(), want, since, until, ref);
  });
  return {
    scenario: sc.name,
    kind: f.kind,
    nodes: f.nodes.length,
    convergence: stats(impacts.map((x) => x.convergedMs)),
    nodesChanged: impacts.filter((x) => x.changes > 0).length,
    recoveredMs,
    lostPairs: impacts.reduce((a, x) => a + x.lost.length, 0),
    lostMs: impacts.reduce((a, x) => a + x.lostMs, 0),
    lost: impacts.flatMap((x, i) => x.lost.map((p) => `${f.nodes[i].plan.name} ${p}`)),
    rssBeforeKb: mean(procBefore.map((p) => p.rssKb)),
    rssAfterKb: mean(procAfter.map((p) => p.rssKb)),
    hwmMaxKb: Math.max(0, ...procAfter.map((p) => p.hwmKb)),
    // A restarted agent is a new process: all its CPU counts.
    cpuMs: procAfter.reduce((a, p, i) => a + p.cpuMs - (f.nodes[i].agent.pid() === pidsBefore[i] ? procBefore[i].cpuMs : 0), 0),
    resets: reset.length,
    note: sc.note?.() ?? '',
    unexpectedFlaps,
    packets,
    healthy: add(healthyBefore, healthyAfter),
    error,
  };
}
