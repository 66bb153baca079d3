/**
 * The BFD interop scenario, shared by the BIRD 2 and FRR tests: a ToR and the real agent in network
 * namespaces on one veth, one BGP session per family (IPv4 and IPv6), BFD 100 ms x 3 on both sides
 * and a BGP hold time of 90 s, so only BFD can explain a fast failover. The ToR sends routes of
 * both families; the agent installs them. Then the ToR is frozen (SIGSTOP: no FIN, no RST, no BFD
 * AdminDown): the agent's BFD must go Down within the Detection Time and the ToR's routes must leave
 * the node's kernel a few hundred ms later; both are measured from the SIGSTOP (log lines and `ip
 * route` polled every few ms) and logged, the assertions bound generously. SIGCONT: BFD Up, BGP
 * Established again and the routes back.
 */

import type { ExecutionContext } from 'ava';
import { formatPrefix } from '../../agent/bgp/prefix.js';
import { Agent, type ConfigDoc } from '../helpers/agent.js';
import type { BgpDaemon, DaemonOptions } from '../helpers/bgp-daemon.js';
import { Lab, waitFor } from '../helpers/netns.js';

export const TOR = '10.0.3.1';
export const NODE = '10.0.3.11';
export const TOR6 = 'fd00:3::1';
export const NODE6 = 'fd00:3::11';
export const AS = 64512;
export const BFD = { minRxMs: 100, minTxMs: 100, multiplier: 3 };
const COUNT = 20;
export const V4 = Array.from({ length: COUNT }, (_, i) => formatPrefix({ afi: 1, len: 26, addr: (((172 << 24) | (20 << 16)) >>> 0) + i * 64 }));
export const V6 = Array.from({ length: COUNT }, (_, i) => `fd00:20:0:${(i + 1).toString(16)}::/122`);

export function torOptions(extra: Partial<DaemonOptions> = {}): DaemonOptions {
  return {
    routerId: TOR,
    localAs: AS,
    neighbors: [
      { address: NODE, as: AS, localAddress: TOR, connectRetry: 1, holdTime: 90, families: ['ipv4'], bfd: BFD },
      { address: NODE6, as: AS, localAddress: TOR6, connectRetry: 1, holdTime: 90, families: ['ipv6'], bfd: BFD },
    ],
    routes: { ipv4: V4, ipv6: V6 },
    ...extra,
  };
}

export const agentDoc: ConfigDoc = {
  node: { name: 'n0', ipv4Address: `${NODE}/24`, ipv6Address: `${NODE6}/64` },
  bgp: { asNumber: AS, holdTime: 90, bfd: { enabled: true, ...BFD }, peers: [{ peerIP: TOR, asNumber: AS }, { peerIP: TOR6, asNumber: AS }] },
  pools: [{ cidr: '172.16.0.0/12', blockSize: 26, ipipMode: 'Never' }, { cidr: 'fd00:20::/48', blockSize: 122 }],
  blocks: ['172.31.255.192/26'],
  log: { level: 'info' },
};

/** The ToR's prefixes of each family found in the node's kernel (our protocol 201). */
export async function installed(lab: Lab, ns: string): Promise<{ v4: number; v6: number }> {
  const [a, b] = await Promise.all([lab.ip(ns, '-4', 'route', 'show', 'proto', '201'), lab.ip(ns, '-6', 'route', 'show', 'proto', '201')]);
  const first = (out: string) => new Set(out.split('\n').map((l) => l.trim().split(/\s+/)[0]));
  const have4 = first(a.stdout);
  const have6 = first(b.stdout);
  const v4 = V4.filter((p) => have4.has(p)).length;
  const v6 = V6.filter((p) => have6.has(p)).length;
  return { v4, v6 };
}

export interface FreezeResult {
  readonly detectMs: { readonly ipv4: number; readonly ipv6: number };
  readonly routesGoneMs: number;
  readonly backMs: number;
}

const countLines = (agent: Agent, text: string): number => agent.logs().split('\n').filter((l) => l.includes(text)).length;

export async function bothUp(agent: Agent, timeoutMs: number): Promise<void> {
  await waitFor(async () => {
    const s = await agent.status();
    return s.peers.length === 2 && s.peers.every((p) => p.state === 'Established' && p.bfd?.state === 'Up');
  }, { timeoutMs, intervalMs: 200, what: 'both sessions Established with BFD Up' });
}

/**
 * Every peer's BFD remote state Up in `agentctl status`. The worker refreshes that snapshot every
 * 500 ms and at each local state change, so the remote state seen at our Up (often Init) can trail.
 */
export async function remoteUp(agent: Agent): Promise<void> {
  await waitFor(async () => (await agent.status()).peers.every((p) => p.bfd?.remoteState === 'Up'), { timeoutMs: 5_000, intervalMs: 100, what: 'every BFD remote state Up in the status' });
}

/** Freeze the ToR, measure, thaw it, wait for recovery. The ToR must be up and converged. */
export async function freeze(t: ExecutionContext, lab: Lab, nodeNs: string, agent: Agent, tor: BgpDaemon & { pause(): void; resume(): void }): Promise<FreezeResult> {
  const downBefore = countLines(agent, 'BFD state change Up -> Down');
  const t0 = Date.now();
  tor.pause();
  let gone = 0;
  const detect: { ipv4?: number; ipv6?: number } = {};
  try {
    await waitFor(() => {
      for (const line of agent.logs().split('\n').filter((l) => l.includes('BFD state change Up -> Down')).slice(downBefore)) {
        const fam = line.includes(TOR6) ? 'ipv6' : 'ipv4';
        detect[fam] ??= Date.now() - t0;
      }
      return detect.ipv4 !== undefined && detect.ipv6 !== undefined;
    }, { timeoutMs: 5000, intervalMs: 2, what: 'BFD Down on both sessions after SIGSTOP' });
    await waitFor(async () => {
      const n = await installed(lab, nodeNs);
      return n.v4 === 0 && n.v6 === 0;
    }, { timeoutMs: 8000, intervalMs: 5, what: "the frozen ToR's routes to leave the kernel" });
    gone = Date.now() - t0;
    const s = await agent.status();
    for (const p of s.peers) {
      t.regex(p.info, /BFD: neighbor down/, `${p.address} INFO: ${p.info}`);
      t.regex(p.lastError ?? '', /BFD: neighbor down \(Control Detection Time Expired\)/);
      t.is(p.bfd?.state, 'Down');
      t.is(p.bfd?.diagnostic, 'Control Detection Time Expired');
    }
  } finally {
    tor.resume();
  }
  const t1 = Date.now();
  await bothUp(agent, 30_000);
  await waitFor(async () => {
    const n = await installed(lab, nodeNs);
    return n.v4 === V4.length && n.v6 === V6.length;
  }, { timeoutMs: 30_000, intervalMs: 100, what: "the ToR's routes back in the kernel after SIGCONT" });
  return { detectMs: { ipv4: detect.ipv4!, ipv6: detect.ipv6! }, routesGoneMs: gone, backMs: Date.now() - t1 };
}
