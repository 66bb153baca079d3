/**
 * The session-flap scenario of the fabric lab: node r0n0 takes its ToR session administratively
 * down and up K times (rack-agent: a reload without and with the peer, no idle-hold backoff as for
 * an operator's stop; BIRD: `birdc disable` / `enable`), each time waiting for the ToR to see the
 * session go and come back. The node agent's VmRSS is sampled after every 10th flap: a leak per
 * session shows as growth from the first sample to the last. The blocks the other nodes lose on
 * each flap are by design (an administrative Cease ends graceful restart).
 */
import { waitFor } from '../helpers/netns.js';
import { torNodeProtocol } from './bird-configs.js';
import { procStat } from './daemons.js';
import type { Fabric } from './fabric.js';
import type { Scenario } from './measure.js';

/** `sample(i, f)` runs after every 10th flap, after the RSS reading (the probe's heap readings). */
export function sessionFlaps(count: number, sample?: (flap: number, f: Fabric) => Promise<void>): Scenario & { rss: number[] } {
  const rss: number[] = [];
  /** Per flap: ms from the command to the ToR seeing the session down, and from the next command to it up. */
  const downMs: number[] = [];
  const upMs: number[] = [];
  const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
  return {
    name: 'session flaps (r0n0)',
    rss,
    expectedFlaps: (f: Fabric) => new Set([`t0:${torNodeProtocol(f.nodes[0].plan)}`]),
    note: () => {
      const at = (k: number): string => (rss[k / 10 - 1] === undefined ? '' : ` ${k}: ${(rss[k / 10 - 1] / 1024).toFixed(1)},`);
      const marks = [...new Set([10, 100, 500, 1000, count - (count % 10)])].filter((k) => k >= 10 && k <= count).sort((a, b) => a - b);
      const times = `down ${median(downMs)} ms, up ${median(upMs)} ms (medians)`;
      return rss.length === 0 ? `${count} flaps, ${times}` : `${count} flaps, ${times}: VmRSS after flap${marks.map(at).join('')} max ${(Math.max(...rss) / 1024).toFixed(1)} MB`;
    },
    run: async (f: Fabric) => {
      const n = f.nodes[0];
      const tor = f.tors[0].bird;
      const proto = torNodeProtocol(n.plan);
      const state = async (): Promise<boolean | undefined> => (await tor.sessions()).get(proto)?.established;
      for (let i = 1; i <= count; i++) {
        const t0 = Date.now();
        await n.agent.sessionAdmin(false, n.blocks);
        await waitFor(async () => (await state()) === false, { timeoutMs: 15_000, intervalMs: 20, what: `flap ${i}: session down at the ToR` });
        const t1 = Date.now();
        await n.agent.sessionAdmin(true, n.blocks);
        await waitFor(async () => (await state()) === true, { timeoutMs: 30_000, intervalMs: 20, what: `flap ${i}: session up at the ToR` });
        downMs.push(t1 - t0);
        upMs.push(Date.now() - t1);
        if (i % 10 !== 0) continue;
        rss.push(procStat(n.agent.pid()).rssKb);
        await sample?.(i, f);
      }
      return Date.now();
    },
  };
}
