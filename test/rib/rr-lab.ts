/**
 * Shared by the route-reflection and mesh tests (real agents in namespaces): addressing of a
 * one-segment fabric, config documents for plain nodes, reflectors and mesh members, the agents'
 * kernel routes (protocol 201) as data, and a RouteWatcher that, for the length of a test step,
 * records every moment an expected route is missing from a namespace's kernel table (polling) and
 * every deletion of one of the agent's routes the kernel reports (`ip monitor route`, so a delete
 * followed by a re-add between two polls is seen too).
 * Not here: the agent process (helpers/agent.ts), namespaces (helpers/netns.ts), BIRD (bird.ts).
 */
import type { ChildProcess } from 'node:child_process';
import type { ConfigDoc } from '../helpers/agent.js';
import { captureOutput, type Lab, type Output, waitFor } from '../helpers/netns.js';

export const AS = 64512;
/** kernel.routeProtocol's default: every route the agent owns carries it. */
export const PROTO = '201';

export interface Member {
  readonly name: string;
  readonly ipv4: string;
  readonly ipv6: string;
  /** Own blocks, or none (a dedicated reflector). */
  readonly blocks: { readonly ipv4: string; readonly ipv6: string } | null;
  readonly clusterId: string;
  readonly labels: Readonly<Record<string, string>>;
}

/** Block k: 192.168.k.0/26 and fd00:10:0:k::/122 (pools 192.168.0.0/16 and fd00:10::/48). */
export function blockOf(k: number): { ipv4: string; ipv6: string } {
  return { ipv4: `192.168.${k}.0/26`, ipv6: `fd00:10:0:${k.toString(16)}::/122` };
}

/** A member at 10.0.1.host / fd00:1::host on the segment, owning block `block` (or none). */
export function member(name: string, host: number, block: number | null, o: { clusterId?: string; labels?: Record<string, string> } = {}): Member {
  return {
    name, ipv4: `10.0.1.${host}`, ipv6: `fd00:1::${host}`,
    blocks: block === null ? null : blockOf(block), clusterId: o.clusterId ?? '', labels: o.labels ?? {},
  };
}

/** An explicit iBGP peer entry of bgp.peers. */
export function peerTo(m: Member): ConfigDoc {
  return { peerIP: m.ipv4, asNumber: AS };
}

/** The bgp.nodes inventory entry of a member. */
export function nodeEntry(m: Member): ConfigDoc {
  return {
    name: m.name, ipv4Address: `${m.ipv4}/24`, ipv6Address: `${m.ipv6}/64`, asNumber: AS, labels: m.labels,
    routeReflectorClusterID: m.clusterId,
  };
}

export interface DocOptions {
  readonly peers?: readonly ConfigDoc[];
  readonly nodes?: readonly Member[];
  readonly mesh?: boolean;
  /** Default true; off where a stopped peer must take its paths with it at once. */
  readonly gracefulRestart?: boolean;
}

/** The agent's config file for `m`. */
export function agentDoc(m: Member, o: DocOptions = {}): ConfigDoc {
  return {
    node: {
      name: m.name, ipv4Address: `${m.ipv4}/24`, ipv6Address: `${m.ipv6}/64`, labels: m.labels,
      routeReflectorClusterID: m.clusterId,
    },
    bgp: {
      asNumber: AS,
      holdTime: 9,
      gracefulRestart: { enabled: o.gracefulRestart ?? true, restartTime: 30 },
      nodeToNodeMesh: o.mesh ?? false,
      peers: o.peers ?? [],
      nodes: (o.nodes ?? []).map(nodeEntry),
    },
    pools: [
      { cidr: '192.168.0.0/16', blockSize: 26, ipipMode: 'Never' },
      { cidr: 'fd00:10::/48', blockSize: 122, ipipMode: 'Never' },
    ],
    blocks: m.blocks === null ? [] : [m.blocks.ipv4, m.blocks.ipv6],
  };
}

/** Builds the segment: a bridge in its own namespace, one namespace per member; returns them. */
export async function segment(lab: Lab, members: readonly Member[]): Promise<Map<string, string>> {
  const sw = await lab.namespace('sw');
  const nsOf = new Map<string, string>();
  for (const m of members) nsOf.set(m.name, await lab.namespace(m.name));
  await lab.lan(sw, members.map((m) => ({ ns: nsOf.get(m.name)!, addr: { ipv4: `${m.ipv4}/24`, ipv6: `${m.ipv6}/64` } })));
  return nsOf;
}

/** prefix -> sorted gateways ('blackhole' for a blackhole route). */
export type KernelRoutes = Map<string, string[]>;

interface IpRoute {
  dst: string;
  type?: string;
  gateway?: string;
  nexthops?: { gateway?: string }[];
}

/** The agent's kernel routes in `ns`, both families. */
export async function kernelRoutes(lab: Lab, ns: string): Promise<KernelRoutes> {
  const out: KernelRoutes = new Map();
  for (const family of ['-4', '-6']) {
    const { stdout } = await lab.ip(ns, family, '-j', 'route', 'show', 'proto', PROTO);
    for (const r of JSON.parse(stdout === '' ? '[]' : stdout) as IpRoute[]) {
      const hops = r.type === 'blackhole' ? ['blackhole'] : [r.gateway, ...(r.nexthops ?? []).map((h) => h.gateway)];
      out.set(r.dst, hops.filter((h): h is string => h !== undefined).sort());
    }
  }
  return out;
}

/** What a namespace must hold: prefix -> the one gateway it must go via ('blackhole' for own). */
export type Expected = ReadonlyMap<string, string>;

/** The kernel routes a member expects: its own blocks blackholed, every other block via its owner. */
export function expectedRoutes(self: Member, others: readonly Member[]): Map<string, string> {
  const e = new Map<string, string>();
  if (self.blocks) for (const b of [self.blocks.ipv4, self.blocks.ipv6]) e.set(b, 'blackhole');
  for (const o of others) {
    if (o === self || o.blocks === null) continue;
    e.set(o.blocks.ipv4, o.ipv4);
    e.set(o.blocks.ipv6, o.ipv6);
  }
  return e;
}

/** Differences from `expected` (missing prefix or gateway), one line each; [] when all there. */
export function missing(routes: KernelRoutes, expected: Expected): string[] {
  const out: string[] = [];
  for (const [prefix, via] of expected) {
    const got = routes.get(prefix);
    if (got === undefined) out.push(`${prefix} missing`);
    else if (!got.includes(via)) out.push(`${prefix} via ${got.join(',')} instead of ${via}`);
  }
  return out;
}

const PROBE = '10.255.255.0/24';
/** `ip -o -ts monitor` lines: `[2026-11-21T16:01:34.123] Deleted ...`. */
const DELETED = /^(\[[^\]]*\]\s*)?Deleted\b/;

interface Watched {
  readonly name: string;
  readonly ns: string;
  expected: Expected;
  readonly monitor: ChildProcess;
  readonly output: Output;
  samples: number;
}

/**
 * Watches the kernel tables of several namespaces until stop(): polls each in turn with no pause
 * but the exec itself, and keeps `ip -o -ts monitor route` running in each. start() proves every
 * monitor live first (adds and deletes a probe route of another protocol and waits to see the
 * deletion), so a quiet monitor means no deletion, not a deaf one.
 */
export class RouteWatcher {
  readonly misses: string[] = [];
  private running = true;
  private loop: Promise<void> = Promise.resolve();
  /** A poll that threw (a namespace gone, ip failing): stop() rethrows it. */
  private failure: unknown = undefined;

  private constructor(private readonly lab: Lab, private readonly watched: Watched[]) {}

  static async start(lab: Lab, targets: readonly { name: string; ns: string; expected: Expected }[]): Promise<RouteWatcher> {
    const watched: Watched[] = targets.map((t) => {
      const monitor = lab.spawn(t.ns, 'ip', ['-o', '-ts', 'monitor', 'route']);
      return { ...t, monitor, output: captureOutput(monitor), samples: 0 };
    });
    const w = new RouteWatcher(lab, watched);
    try {
      for (const x of watched) {
        await waitFor(async () => {
          await lab.ip(x.ns, 'route', 'replace', 'blackhole', PROBE, 'proto', '250');
          await lab.ip(x.ns, 'route', 'del', 'blackhole', PROBE, 'proto', '250');
          return x.output.lines.some((l) => DELETED.test(l) && l.includes(PROBE));
        }, { timeoutMs: 15_000, intervalMs: 100, what: `ip monitor in ${x.name} to report a probe deletion` });
      }
    } catch (err) {
      await w.stop();
      throw err;
    }
    w.loop = w.poll().catch((err: unknown) => {
      w.failure = err;
    });
    return w;
  }

  /** Changes what `name` must hold from now on (a route may be added, never lost). */
  expect(name: string, expected: Expected): void {
    const x = this.watched.find((w) => w.name === name);
    if (x === undefined) throw new Error(`RouteWatcher: no target ${name}`);
    x.expected = expected;
  }

  private async poll(): Promise<void> {
    while (this.running) {
      for (const x of this.watched) {
        if (!this.running) return;
        const routes = await kernelRoutes(this.lab, x.ns);
        x.samples += 1;
        for (const m of missing(routes, x.expected)) this.misses.push(`${new Date().toISOString()} ${x.name}: ${m}`);
      }
    }
  }

  /** Polls taken per target so far. */
  samples(): Record<string, number> {
    return Object.fromEntries(this.watched.map((x) => [x.name, x.samples]));
  }

  /** Deletions of the agent's routes (protocol 201) the kernel reported, with the time, per target. */
  deletions(): string[] {
    return this.watched.flatMap((x) => x.output.lines
      .filter((l) => DELETED.test(l) && /\bproto (201|rack-agent)\b/.test(l))
      .map((l) => `${x.name}: ${l.trim()}`));
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
    for (const x of this.watched) {
      if (x.monitor.exitCode !== null || x.monitor.signalCode !== null) continue;
      const exited = new Promise<void>((resolve) => x.monitor.once('exit', () => resolve()));
      x.monitor.kill('SIGTERM');
      await exited;
    }
    if (this.failure !== undefined) throw this.failure;
  }
}
