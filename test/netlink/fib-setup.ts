/**
 * Shared set-up of the FIB integration tests: a node namespace `n` with two veth links, to `p`
 * (10.1.0.0/24, fd00:1::/64: the peers' subnet) and to `q` (10.2.0.0/24: its `n` end stands in for
 * the tunnel device, since this kernel has neither ipip nor dummy links), and a Fib driver in `n`.
 */
import type { ExecutionContext } from 'ava';
import type { DriverChange, DriverOptions } from '../helpers/fib-driver.js';
import { FibClient, type IpRoute, kernelRoutes } from '../helpers/fib-client.js';
import { Lab, waitFor } from '../helpers/netns.js';

export const PROTO = 201;

export interface FibLab {
  lab: Lab;
  n: string;
  p: string;
  /** The n end of the n-p veth (where the peers are). */
  toP: string;
  /** The n end of the n-q veth (the stand-in tunnel device). */
  toQ: string;
  /** The link-local address of p's end, for IPv6 link-local next hops. */
  peerLinkLocal: string;
}

export async function fibLab(t: ExecutionContext, name: string): Promise<FibLab> {
  const lab = await Lab.create(name);
  t.teardown(() => lab.destroy());
  const n = await lab.namespace('n');
  const p = await lab.namespace('p');
  const q = await lab.namespace('q');
  const np = await lab.veth(n, { ipv4: '10.1.0.1/24', ipv6: 'fd00:1::1/64' }, p, { ipv4: '10.1.0.2/24', ipv6: 'fd00:1::2/64' });
  const nq = await lab.veth(n, '10.2.0.1/24', q, '10.2.0.2/24');
  const linkLocal = async (ns: string, dev: string): Promise<string | undefined> => {
    const { stdout } = await lab.ip(ns, '-j', '-6', 'addr', 'show', 'dev', dev, 'scope', 'link');
    // iproute2 prints filtered-out addresses as {} entries.
    const info = JSON.parse(stdout) as Array<{ addr_info: Array<{ local?: string }> }>;
    return info[0]?.addr_info.find((a) => a.local !== undefined)?.local;
  };
  // The kernel adds link-local addresses shortly after the link comes up.
  const peerLinkLocal = await waitFor(() => linkLocal(p, np.b), { timeoutMs: 5000, what: `a link-local address on ${np.b}` });
  await waitFor(() => linkLocal(n, np.a), { timeoutMs: 5000, what: `a link-local address on ${np.a}` });
  return { lab, n, p, toP: np.a, toQ: nq.a, peerLinkLocal };
}

export function driverOptions(fl: FibLab, extra: Partial<DriverOptions> = {}): DriverOptions {
  return {
    protocol: PROTO,
    table: 254,
    tunnelDevice: fl.toQ,
    nodeIpv4Address: '10.1.0.1/24',
    pools: [
      { cidr: '192.168.0.0/16', ipipMode: 'CrossSubnet', disabled: false },
      { cidr: '172.20.0.0/16', ipipMode: 'Always', disabled: false },
      { cidr: 'fd00:100::/48', ipipMode: 'Never', disabled: false },
    ],
    reconcileIntervalMs: 60_000,
    ...extra,
  };
}

export async function startDriver(t: ExecutionContext, fl: FibLab, extra: Partial<DriverOptions> = {}): Promise<FibClient> {
  const client = await FibClient.start(fl.lab, fl.n, driverOptions(fl, extra));
  t.teardown(() => client.kill());
  return client;
}

export const local = (prefix: string): DriverChange => ({ prefix, best: [{ peer: 'local' }] });
export const via = (prefix: string, ...nextHops: string[]): DriverChange => ({
  prefix, best: nextHops.map((nh) => ({ peer: nh, nextHop: nh })),
});
export const withdraw = (prefix: string): DriverChange => ({ prefix, best: [] });

/** Our routes (both families) as `dst -> route` from `ip -j route`. */
export async function ours(fl: FibLab, family: 4 | 6 = 4): Promise<Map<string, IpRoute>> {
  const routes = await kernelRoutes(fl.lab, fl.n, { family, proto: PROTO });
  return new Map(routes.map((r) => [r.dst, r]));
}

/** Every route of table main in one family that is not ours, in a stable text form. */
export async function aliens(fl: FibLab, family: 4 | 6 = 4): Promise<string[]> {
  const all = await kernelRoutes(fl.lab, fl.n, { family });
  // iproute2 names protocol 201 'rack-agent' where deploy/iproute2 is installed.
  return all.filter((r) => r.protocol !== String(PROTO) && r.protocol !== 'rack-agent').map((r) => JSON.stringify(r)).sort();
}

/** Next hops of a route as "gateway dev [onlink]" strings, sorted (single path or multipath). */
export function hops(r: IpRoute | undefined): string[] {
  if (r === undefined) return [];
  const list = r.nexthops ?? (r.gateway === undefined ? [] : [{ gateway: r.gateway, dev: r.dev, flags: r.flags }]);
  return list.map((h) => `${h.gateway} ${h.dev}${(h.flags ?? []).includes('onlink') ? ' onlink' : ''}`).sort();
}
