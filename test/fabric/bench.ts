/**
 * `npm run bench:fabric` (as root): the fabric lab's scenarios (scenarios.ts) with rack-agent and
 * with BIRD as calico/node runs it, built one after the other in the same run, printed as one table
 * (scenarios as rows, the two node agents side by side, packets lost by the traffic probes among
 * the columns), then the per-node cost and what the healthy windows between scenarios lost. Size
 * from the environment: FABRIC_RACKS (3), FABRIC_NODES (10), FABRIC_MODEL (rr | as-per-rack | unnumbered);
 * session flaps FABRIC_FLAPS (1000, rack-agent) and FABRIC_BIRD_FLAPS (1000; BIRD's flaps take
 * about 0.9 s each, its connect delay: about 15 minutes of the run; see flaps.ts); FABRIC_ONLY=rolling
 * runs only the rolling restarts of rolling.ts.
 */
import { isRoot } from '../helpers/netns.js';
import { procStat } from './daemons.js';
import type { Fabric } from './fabric.js';
import type { Scenario, ScenarioResult } from './measure.js';
import { sessionFlaps } from './flaps.js';
import { rollingRestarts } from './rolling.js';
import { allScenarios, runAll, unnumberedScenarios } from './scenarios.js';
import type { Model, NodeAgentKind } from './topology.js';

interface BuildCost {
  nodes: number;
  buildMs: number;
  rssMeanKb: number;
  rssMaxKb: number;
  torRssKb: number;
  spineRssKb: number;
}

const mb = (kb: number): string => (kb / 1024).toFixed(1);

function cell(r: ScenarioResult | undefined): string[] {
  if (r === undefined) return ['-', '-', '-', '-', '-', '-', '-'];
  const c = r.convergence;
  return [
    `${c.p50}/${c.p99}/${c.max}`,
    `${r.recoveredMs}`,
    `${r.lostPairs} (${r.lostMs} ms)`,
    `${r.packets.lost}/${r.packets.sent}`,
    `${r.resets}/${r.unexpectedFlaps.length}`,
    `${mb(r.rssBeforeKb)}->${mb(r.rssAfterKb)}`,
    `${r.cpuMs}`,
  ].map((x, i) => (i === 0 && r.error !== '' ? `FAIL ${x}` : x));
}

export function table(results: readonly ScenarioResult[], kinds: readonly NodeAgentKind[]): string {
  const head = ['scenario', ...kinds.flatMap((k) => [`${k} conv ms p50/p99/max`, 'whole ms', 'lost (node,block)', 'pkts lost', 'resets/bad', 'RSS MB', 'CPU ms'])];
  const names = [...new Set(results.map((r) => r.scenario))];
  const rows = names.map((n) => [n, ...kinds.flatMap((k) => cell(results.find((r) => r.scenario === n && r.kind === k)))]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: readonly string[]): string => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  return [line(head), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n');
}

async function main(): Promise<number> {
  if (!isRoot) {
    process.stdout.write('bench:fabric builds network namespaces and needs root.\n');
    return 1;
  }
  const racks = Number(process.env.FABRIC_RACKS ?? 3);
  const nodes = Number(process.env.FABRIC_NODES ?? 10);
  const model = (process.env.FABRIC_MODEL ?? 'rr') as Model;
  const kinds: NodeAgentKind[] = ['rack-agent', 'bird'];
  const costs = new Map<NodeAgentKind, BuildCost>();
  let builtAt = Date.now();
  const log = (line: string): void => {
    process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${line}\n`);
    const m = /^(\S+): (\d+) nodes built in (\d+) ms/.exec(line);
    if (m !== null) builtAt = Number(m[3]);
  };
  const onBuilt = (f: Fabric): void => {
    const rss = f.nodes.map((n) => procStat(n.agent.pid()).rssKb);
    costs.set(f.kind, {
      nodes: f.nodes.length, buildMs: builtAt,
      rssMeanKb: rss.reduce((a, b) => a + b, 0) / rss.length, rssMaxKb: Math.max(...rss),
      torRssKb: procStat(f.tors[0].router.pid).rssKb, spineRssKb: procStat(f.spine.pid).rssKb,
    });
  };
  process.stderr.write(`bench:fabric: ${racks} racks x ${nodes} nodes, model ${model}, node agents ${kinds.join(' and ')}\n`);
  const flaps = (kind: NodeAgentKind): number => Number(kind === 'bird' ? process.env.FABRIC_BIRD_FLAPS ?? 1000 : process.env.FABRIC_FLAPS ?? 1000);
  // unnumbered: its own three scenarios (scenarios.ts); the session flaps need a BIRD ToR.
  // FABRIC_ONLY=rolling: the rolling restarts alone (rolling.ts), without and with a drain.
  const only = process.env.FABRIC_ONLY === 'rolling' ? rollingRestarts(nodes) : undefined;
  const scenarios = (kind: NodeAgentKind): readonly Scenario[] => only ?? (model === 'unnumbered' ? unnumberedScenarios
    : [...allScenarios, ...rollingRestarts(nodes), ...(flaps(kind) > 0 ? [sessionFlaps(flaps(kind))] : [])]);
  const results = await runAll({ racks, nodes, model }, kinds, { log, onBuilt, scenarios });
  const out = [
    `bench:fabric: ${racks} racks x ${nodes} nodes (${racks * nodes} node agents, ${model === 'unnumbered' ? 2 * racks : racks} ToRs, 1 spine), model ${model}`,
    'conv: ms from the fault (restart, kill) or its repair (SIGCONT, link up) to each node\'s last fabric route change; lost: (node, block) pairs missing or wrong meanwhile;',
    'whole: ms from the same instant until every session is Established and every kernel exact (polled every 100 ms);',
    'pkts lost: UDP probes between the racks\' block addresses (one node per rack to every other rack, IPv4 and IPv6, every 50 ms per stream) lost / sent from the fault to the end;',
    'resets/bad: sessions reset (ToR and spine view, IPv4 and IPv6 sessions) / of them not expected; RSS: mean node agent VmRSS before->after; CPU: node agents\' CPU summed over the scenario.',
    '',
    table(results, kinds),
    '',
    '| per node | ' + kinds.join(' | ') + ' |',
    '|---|' + kinds.map(() => '---').join('|') + '|',
    `| build + first convergence, ms | ${kinds.map((k) => costs.get(k)?.buildMs ?? '-').join(' | ')} |`,
    `| node agent VmRSS mean / max, MB | ${kinds.map((k) => { const c = costs.get(k); return c ? `${mb(c.rssMeanKb)} / ${mb(c.rssMaxKb)}` : '-'; }).join(' | ')} |`,
    `| ToR daemon (BIRD; FRR bgpd in unnumbered) / spine BIRD VmRSS, MB | ${kinds.map((k) => { const c = costs.get(k); return c ? `${mb(c.torRssKb)} / ${mb(c.spineRssKb)}` : '-'; }).join(' | ')} |`,
    `| all node agents VmRSS, MB | ${kinds.map((k) => { const c = costs.get(k); return c ? mb(c.rssMeanKb * c.nodes) : '-'; }).join(' | ')} |`,
    `| failed final checks | ${kinds.map((k) => results.filter((r) => r.kind === k && r.error !== '').map((r) => r.scenario).join(', ') || 'none').join(' | ')} |`,
    `| healthy windows: probes lost / sent | ${kinds.map((k) => { const h = results.filter((r) => r.kind === k); return `${h.reduce((a, r) => a + r.healthy.lost, 0)} / ${h.reduce((a, r) => a + r.healthy.sent, 0)}`; }).join(' | ')} |`,
  ];
  process.stdout.write(`${out.join('\n')}\n`);
  for (const r of results.filter((x) => x.note !== '')) process.stdout.write(`${r.kind} ${r.scenario}: ${r.note}\n`);
  for (const r of results.filter((x) => x.error !== '')) process.stdout.write(`${r.kind} ${r.scenario}: ${r.error}\n`);
  return results.some((r) => r.error !== '' || r.unexpectedFlaps.length > 0 || r.healthy.lost > 0) ? 1 : 0;
}

main().then((code) => process.exit(code), (err: unknown) => {
  process.stderr.write(`bench:fabric failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
