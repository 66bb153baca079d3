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

export function sessionFlaps(count: number): Scenario & { rss: number[] } {
  const rss: number[] = [];
  return {
    name: 'session flaps (r0n0)',
    rss,
    expectedFlaps: (f: Fabric) => new Set([`t0:${torNodeProtocol(f.nodes[0].plan)}`]),
    note: () => (rss.length < 2 ? `${count} flaps` : `${count} flaps: RSS after flap 10: ${(rss[0] / 1024).toFixed(1)} MB, after flap ${rss.length * 5}: ${(rss[Math.floor(rss.length / 2) - 1] / 1024).toFixed(1)} MB, after flap ${count}: ${(rss[rss.length - 1] / 1024).toFixed(1)} MB, max ${(Math.max(...rss) / 1024).toFixed(1)} MB`),
    run: async (f: Fabric) => {
      const n = f.nodes[0];
      const tor = f.tors[0].bird;
      const proto = torNodeProtocol(n.plan);
      const state = async (): Promise<boolean | undefined> => (await tor.sessions()).get(proto)?.established;
      for (let i = 1; i <= count; i++) {
        await n.agent.sessionAdmin(false, n.blocks);
        await waitFor(async () => (await state()) === false, { timeoutMs: 15_000, intervalMs: 20, what: `flap ${i}: session down at the ToR` });
        await n.agent.sessionAdmin(true, n.blocks);
        await waitFor(async () => (await state()) === true, { timeoutMs: 30_000, intervalMs: 20, what: `flap ${i}: session up at the ToR` });
        if (i % 10 === 0) rss.push(procStat(n.agent.pid()).rssKb);
      }
      return Date.now();
    },
  };
}
