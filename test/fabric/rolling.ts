/**
 * The fabric lab's rolling restart (issue 23 "Measured"): every node of rack 0 restarted in turn the
 * way systemd restarts a unit (SIGTERM, the process gone, started again), one scenario per node so
 * that the runner (measure.ts) counts the packets lost per node restarted; once without a drain and
 * once drained around each restart as the rollout playbook does it (deploy/ansible restart.yml):
 * RFC 8326 drain, DRAIN_MS for the fabric to move traffic away, SIGTERM, start, ready (every
 * session up and every kernel exact), undrain. rack-agent drains with `agentctl drain`; BIRD-as-node
 * the way an operator would: its export filter gains `bgp_community.add((65535,0))` and LOCAL_PREF
 * 0 (iBGP) or three prepends (eBGP), then `birdc configure` (bird-configs.ts nodeBirdConfig), and it
 * restarts with that config and is undrained by configuring it back. The ToRs honour 65535:0
 * (bird-configs.ts, LOCAL_PREF 0 on import), as RFC 8326 section 4 asks a receiver.
 * Not here: a second path for a node's own block (each block has one node, so a drain can move no
 * traffic to another path in this lab; what it must not do is lose any).
 */
import { waitFor } from '../helpers/netns.js';
import { waitConverged } from './converge.js';
import type { Fabric } from './fabric.js';
import type { Scenario } from './measure.js';
import { torNodeProtocol } from './bird-configs.js';

/** Between the drain and the SIGTERM (the role's rack_agent_drain_time, shortened for the lab). */
export const DRAIN_MS = 2000;

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Restart node `index` of rack 0 (SIGTERM, start), drained around it when `drain`. */
export function rollingRestart(index: number, drain: boolean, timeoutMs = 60_000): Scenario {
  let seen = '';
  return {
    name: `rolling restart r0n${index}${drain ? ', drained' : ''}`,
    expectedFlaps: (f) => {
      const n = node(f, index);
      return new Set([`t0:${torNodeProtocol(n.plan)}`, `t0:${torNodeProtocol(n.plan, 'ipv6')}`]);
    },
    run: async (f) => {
      const n = node(f, index);
      if (drain) {
        const t0 = Date.now();
        await n.agent.drain(true);
        // The ToR holds the node's block with 65535:0 and, by its own import filter, LOCAL_PREF 0.
        const tor = f.tors[0].bird;
        if (tor === undefined) throw new Error('the rolling restart reads a BIRD ToR (rr and as-per-rack models)');
        await waitFor(async () => {
          const route = await tor.birdc('show', 'route', 'all', n.plan.block);
          return /BGP\.community:.*\(65535,0\)/.test(route) && /BGP\.local_pref: 0\b/.test(route);
        }, { timeoutMs: 10_000, intervalMs: 20, what: `ToR t0 to hold ${n.plan.block} with 65535:0 and LOCAL_PREF 0` });
        seen = `ToR t0 held ${n.plan.block} with 65535:0 and LOCAL_PREF 0 ${Date.now() - t0} ms after the drain`;
        await pause(DRAIN_MS); // the drain time itself, as the playbook waits it: not a synchronisation
      }
      const at = Date.now();
      await n.agent.stop();
      await n.agent.restart();
      if (drain) {
        await waitConverged(f, timeoutMs);
        await n.agent.drain(false);
      }
      return at;
    },
    note: () => seen,
  };
}

function node(f: Fabric, index: number): Fabric['nodes'][number] {
  const n = f.nodes.find((x) => x.plan.rack === 0 && x.plan.index === index);
  if (n === undefined) throw new Error(`no node r0n${index} in the fabric`);
  return n;
}

/** Every node of rack 0 in turn, first without a drain, then drained. */
export function rollingRestarts(nodesPerRack: number): Scenario[] {
  const order = Array.from({ length: nodesPerRack }, (_, i) => i);
  return [...order.map((i) => rollingRestart(i, false)), ...order.map((i) => rollingRestart(i, true))];
}
