/**
 * The BFD interop scenario, shared by the BIRD 2 and FRR tests: a ToR and the real agent in network
 * namespaces on one veth, one BGP session per family (IPv4 and IPv6), BFD 100 ms x 3 on both sides
 * and a BGP hold time of 90 s, so only BFD can explain a fast failover. The ToR sends routes of
 * both families; the agent installs them. Then the ToR is frozen (SIGSTOP: no FIN, no RST, no BFD
 * AdminDown): the agent's BFD must go Down within the Detection Time and the ToR's routes must leave
 * the node's kernel a few hundred ms later; both are measured from the SIGSTOP (log lines and `ip
 * route` polled every few ms) and logged, the assertions bound generously. SIGCONT: BFD Up, BGP
 * Established again and the routes back.
 *
 * `bfdInterop` runs the part both tests share: the lab, the ToR (started by the test's own starter)
 * and the agent, BGP and BFD Up on both sides (the ToR's view through the test's BFD-state query),
 * the routes in the kernel and the status assertions every ToR must pass; then the test's own part,
 * and the teardown. `run.freezeTor()` is the freeze with its bounds.
 */

import { existsSync } from 'node:fs';
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

/** A ToR the scenario can freeze (SIGSTOP) and thaw. */
export type BfdTor = BgpDaemon & { pause(): void; resume(): void };

/** Freeze the ToR, measure, thaw it, wait for recovery. The ToR must be up and converged. */
export async function freeze(t: ExecutionContext, lab: Lab, nodeNs: string, agent: Agent, tor: BfdTor): Promise<FreezeResult> {
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

export interface BfdScenario<T extends BfdTor> {
  /** The ToR's name in assertion and log messages ('BIRD', 'FRR'). */
  readonly name: string;
  /** The Lab's name ([a-z0-9]{1,16}). */
  readonly lab: string;
  readonly start: (lab: Lab, ns: string, options: DaemonOptions) => Promise<T>;
  /** The ToR's own view of its BFD session with `address` ('Up' when up). */
  readonly bfdState: (tor: T, address: string) => Promise<string | undefined>;
  /** How long the ToR may take to show its sessions Up. */
  readonly torUpMs: number;
  /** The agent's config; agentDoc when absent. */
  readonly doc?: ConfigDoc;
}

export interface BfdRun<T extends BfdTor> {
  readonly lab: Lab;
  readonly nodeNs: string;
  readonly torNs: string;
  readonly agent: Agent;
  readonly tor: T;
  /** Waits until the ToR shows both BFD sessions (IPv4, IPv6) Up. */
  torUp(what: string): Promise<void>;
  /** `freeze`, logged, with the detection and withdrawal bounds asserted. */
  freezeTor(): Promise<FreezeResult>;
}

/** The shared preamble, then `body`, then the teardown (the agent's and ToR's logs on failure). */
export async function bfdInterop<T extends BfdTor>(t: ExecutionContext, scenario: BfdScenario<T>, body: (run: BfdRun<T>) => Promise<void>): Promise<void> {
  const lab = await Lab.create(scenario.lab);
  let tor: T | undefined;
  let agent: Agent | undefined;
  try {
    const torNs = await lab.namespace('tor');
    const nodeNs = await lab.namespace('node');
    await lab.veth(torNs, { ipv4: `${TOR}/24`, ipv6: `${TOR6}/64` }, nodeNs, { ipv4: `${NODE}/24`, ipv6: `${NODE6}/64` });
    const theTor = await scenario.start(lab, torNs, torOptions());
    tor = theTor;
    const theAgent = await Agent.start(lab, nodeNs, scenario.doc ?? agentDoc);
    agent = theAgent;
    const run: BfdRun<T> = {
      lab,
      nodeNs,
      torNs,
      agent: theAgent,
      tor: theTor,
      async torUp(what) {
        await waitFor(async () => (await scenario.bfdState(theTor, NODE)) === 'Up' && (await scenario.bfdState(theTor, NODE6)) === 'Up', { timeoutMs: scenario.torUpMs, intervalMs: 200, what });
      },
      async freezeTor() {
        const r = await freeze(t, lab, nodeNs, theAgent, theTor);
        t.log(`${scenario.name} frozen: BFD Down after ${r.detectMs.ipv4} ms (IPv4), ${r.detectMs.ipv6} ms (IPv6); routes out of the kernel after ${r.routesGoneMs} ms; back ${r.backMs} ms after SIGCONT`);
        // Detection Time is 300 ms; the ToR's last packet came up to 100 ms before the SIGSTOP.
        t.true(r.detectMs.ipv4 <= 2000 && r.detectMs.ipv6 <= 2000, 'BFD Down within the bound');
        t.true(r.routesGoneMs <= 4000, 'routes gone within the bound');
        return r;
      },
    };
    await bothUp(theAgent, 30_000);
    await run.torUp(`${scenario.name} to show both BFD sessions Up`);
    await waitFor(async () => {
      const n = await installed(lab, nodeNs);
      return n.v4 === V4.length && n.v6 === V6.length;
    }, { timeoutMs: 20_000, intervalMs: 100, what: "the ToR's routes in the kernel" });
    await remoteUp(theAgent);
    for (const p of (await theAgent.status()).peers) {
      t.like(p.bfd, { state: 'Up', remoteState: 'Up', multiplier: 3 });
      t.true((p.bfd?.detectTimeMs ?? 0) <= 300, `detect time ${p.bfd?.detectTimeMs}`);
    }
    await body(run);
  } catch (err) {
    if (agent) t.log(agent.logs().split('\n').slice(-80).join('\n'));
    if (tor) t.log(tor.logs().split('\n').slice(-40).join('\n'));
    throw err;
  } finally {
    await agent?.dispose();
    await tor?.dispose();
    await lab.destroy();
  }
}

/** nftables' nft by path: under npx, node_modules/.bin has an unrelated `nft` (@vercel/nft). */
const NFT = ['/usr/sbin/nft', '/sbin/nft'].find((p) => existsSync(p)) ?? 'nft';

/**
 * nftables in `ns`: `nft -f` of `rules` (a whole table). With `dropBfd`, a table dropping BFD
 * (UDP 3784) both ways: a ToR whose BFD goes silent without AdminDown.
 */
export async function nft(lab: Lab, ns: string, rules: string): Promise<void> {
  const r = await lab.exec(ns, 'sh', ['-c', `printf '%s' "$1" | ${NFT} -f -`, 'nft', rules]);
  if (r.code !== 0) throw new Error(`nft in ${ns}: ${r.stderr}`);
}

export const DROP_BFD = `table inet bfddrop {
  chain in { type filter hook input priority 0; udp dport 3784 drop; }
  chain out { type filter hook output priority 0; udp dport 3784 drop; }
}
`;

/** Packets an nftables named counter has seen (`nft list counter`). */
export async function nftCounter(lab: Lab, ns: string, table: string, name: string): Promise<number> {
  const r = await lab.exec(ns, NFT, ['list', 'counter', 'inet', table, name]);
  const m = /packets (\d+)/.exec(r.stdout);
  if (!m) throw new Error(`nft counter ${table} ${name}: ${r.stdout}${r.stderr}`);
  return Number(m[1]);
}
