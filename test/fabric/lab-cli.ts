/**
 * `npm run lab -- [--racks R] [--nodes N] [--model rr|as-per-rack|unnumbered] [--node-agent rack-agent|bird]
 * [--keep]` (as root): builds the fabric lab (fabric.ts) in network namespaces, waits until every
 * node's kernel holds exactly the fabric's blocks, sends traffic probes across the racks
 * (probes.ts; they keep running with --keep), prints how to explore it and, with --keep, keeps it
 * until Ctrl-C. Everything is torn down on exit, Ctrl-C or error.
 */
import { parseArgs } from 'node:util';
import { isRoot, Lab } from '../helpers/netns.js';
import { waitConverged } from './converge.js';
import { buildFabric, disposeFabric, exploreText, type Fabric } from './fabric.js';
import { procStat } from './daemons.js';
import { Probes } from './probes.js';
import type { FabricPlan, Model, NodeAgentKind } from './topology.js';

function say(text: string): void {
  process.stdout.write(`${text}\n`);
}

export function parseLabArgs(argv: readonly string[]): { plan: FabricPlan; kind: NodeAgentKind; keep: boolean } {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      racks: { type: 'string', default: '2' }, nodes: { type: 'string', default: '3' },
      model: { type: 'string', default: 'rr' }, 'node-agent': { type: 'string', default: 'rack-agent' },
      keep: { type: 'boolean', default: false },
    },
  });
  const racks = Number(values.racks);
  const nodes = Number(values.nodes);
  if (!Number.isInteger(racks) || racks < 1 || racks > 200) throw new Error(`--racks: 1..200, got ${values.racks}`);
  if (!Number.isInteger(nodes) || nodes < 1 || nodes > 200) throw new Error(`--nodes: 1..200, got ${values.nodes}`);
  if (values.model !== 'rr' && values.model !== 'as-per-rack' && values.model !== 'unnumbered') {
    throw new Error(`--model: rr | as-per-rack | unnumbered, got ${values.model}`);
  }
  const kind = values['node-agent'];
  if (kind !== 'rack-agent' && kind !== 'bird') throw new Error(`--node-agent: rack-agent | bird, got ${kind}`);
  return { plan: { racks, nodes, model: values.model as Model }, kind, keep: values.keep === true };
}

async function main(): Promise<number> {
  if (!isRoot) {
    say('npm run lab builds network namespaces and needs root.');
    return 1;
  }
  const { plan, kind, keep } = parseLabArgs(process.argv.slice(2));
  const stop = new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  const lab = await Lab.create('lab');
  const f: Partial<Fabric> = {};
  try {
    say(`Building ${plan.racks} racks x ${plan.nodes} nodes, model ${plan.model}, node agent ${kind} (namespaces ${lab.prefix}*)...`);
    const t0 = Date.now();
    const built = await Promise.race([buildFabric(lab, plan, kind, f), stop.then(() => undefined)]);
    if (built === undefined) return 130;
    await waitConverged(built, 60_000 + 2000 * built.nodes.length);
    const rss = built.nodes.map((n) => procStat(n.agent.pid()).rssKb);
    say(`Converged in ${((Date.now() - t0) / 1000).toFixed(1)} s: every node's kernel holds exactly the ${built.nodes.length} IPv4 and ${built.nodes.length} IPv6 blocks.`);
    say(`Node agent RSS: mean ${(rss.reduce((a, b) => a + b, 0) / rss.length / 1024).toFixed(1)} MB, max ${(Math.max(...rss) / 1024).toFixed(1)} MB.`);
    const probes = Probes.start(built);
    await probes.ready();
    const p = await probes.healthy(Date.now(), 10);
    say(`Traffic: ${p.sent} UDP probes between the racks' block addresses (${probes.streamCount} streams, IPv4 and IPv6), ${p.lost} lost.`);
    say(`\nExplore:\n${exploreText(built)}`);
    if (keep) {
      say('\nThe fabric stays up until Ctrl-C.');
      await stop;
    }
    return 0;
  } finally {
    say('Tearing the fabric down.');
    await disposeFabric(f);
    await lab.destroy();
  }
}

main().then((code) => process.exit(code), (err: unknown) => {
  process.stderr.write(`lab failed: ${(err as Error).message}\n`);
  process.exit(1);
});
