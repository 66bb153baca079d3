/**
 * Convergence checks over a whole fabric: every node's kernel exactly the fabric's IPv4 and IPv6
 * blocks (each remote block via the right next hop, its own blackholed), and every BGP session up
 * as the ToRs and the spine see it. Polls with deadlines; no fixed sleeps.
 */
import { waitFor } from '../helpers/netns.js';
import type { Fabric, FabricNode } from './fabric.js';
import { expectedKernel, isIpv6, kernelDiff, type KernelEntry } from './topology.js';
import { kernelBlocks } from './watch.js';

/** What node `n` must hold, with the blocks each node has now (a reload may have changed them). */
export function expectedFor(f: Fabric, n: FabricNode): Map<string, KernelEntry> {
  const byNode = expectedKernel(f.plan, n.plan);
  const out = new Map<string, KernelEntry>();
  for (const m of f.nodes) for (const b of m.blocks) out.set(b, byNode.get(isIpv6(b) ? m.plan.block6 : m.plan.block) ?? '');
  return out;
}

/** Per node, the differences from what it must hold; empty when the whole fabric is exact. */
export async function fabricDiff(f: Fabric): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  await Promise.all(f.nodes.map(async (n) => {
    const d = kernelDiff(expectedFor(f, n), await kernelBlocks(f.lab, n.ns));
    if (d.length > 0) out.set(n.plan.name, d);
  }));
  return out;
}

export async function sessionsUp(f: Fabric): Promise<boolean> {
  for (const b of [f.spine, ...f.tors.map((t) => t.router)]) {
    const s = await b.sessions().catch(() => new Map());
    if (s.size === 0 || ![...s.values()].every((x) => x.established)) return false;
  }
  return true;
}

/** Waits until every session is up and every kernel is exact; throws with the differences. */
export async function waitConverged(f: Fabric, timeoutMs: number): Promise<void> {
  let last = new Map<string, string[]>();
  try {
    await waitFor(async () => {
      if (!(await sessionsUp(f))) return false;
      last = await fabricDiff(f);
      return last.size === 0;
    }, { timeoutMs, intervalMs: 100, what: 'every node kernel to hold exactly the fabric blocks' });
  } catch (err) {
    const detail = [...last].map(([n, d]) => `  ${n}: ${d.slice(0, 4).join('; ')}`).join('\n');
    throw new Error(`${(err as Error).message}\n${detail}`);
  }
}
