/**
 * Which next hops `agentctl check` probes, and at what size (SPEC.md "agentctl check"): one
 * target per distinct next hop of the installed routes and per peer address. The full-size probe
 * is the MTU of the device the next hop is reached on; for an IPIP next hop (a route `via X dev
 * <kernel.tunnelDevice> onlink`) it is the tunnel's MTU plus the 20-byte outer IPv4 header, the
 * size of the encapsulated packets the underlay must carry to X. Pure: the device lookups are
 * passed in. Not here: sending (prober.ts) or judging (checks.ts).
 */
import type { Family } from './icmp.js';

/** A route next hop as the FIB shows it (netlink/fib/views.ts FibRouteView). */
export interface RouteHop {
  readonly via: string;
  readonly dev?: string;
  readonly onlink?: boolean;
}

export interface RouteInput {
  readonly prefix: string;
  readonly kind: 'blackhole' | 'unicast';
  readonly installed: boolean;
  readonly nextHops: readonly RouteHop[];
}

export interface TargetInputs {
  readonly routes: readonly RouteInput[];
  /** Addresses of enabled peers. */
  readonly peers: readonly string[];
  readonly tunnelDevice: string;
  /** MTU of a device by name, null when there is no such device. */
  readonly mtuOf: (device: string) => number | null;
  /** The device an address is reached on (its connected subnet), null when none holds it. */
  readonly deviceFor: (address: string) => string | null;
}

export interface Target {
  /** Where the probes go; an IPv6 link-local address carries `%device`. */
  readonly address: string;
  readonly family: Family;
  /** The device the size came from, '' when none is known. */
  readonly device: string;
  readonly ipip: boolean;
  /** The full-size probe's IP packet size. */
  readonly packetBytes: number;
  /** How packetBytes was found. */
  readonly sizeFrom: 'device' | 'tunnel' | 'assumed';
  /** Why it is probed: `peer`, and up to three route prefixes. */
  readonly why: readonly string[];
  /** Routes using it, all of them (why lists three). */
  readonly routes: number;
}

/** The outer IPv4 header IPIP adds (RFC 2003 s3). */
export const IPIP_OUTER = 20;
/** The full size when no device is known (a multihop peer): Ethernet's. */
export const ASSUMED_MTU = 1500;
/** Every small probe: a 64-byte IP packet, as ping's default. */
export const SMALL_PACKET = 64;

const familyOf = (address: string): Family => (address.includes(':') ? 6 : 4);
const isLinkLocal6 = (address: string): boolean => /^fe[89ab][0-9a-f]:/i.test(address);

interface Draft {
  address: string;
  family: Family;
  device: string;
  ipip: boolean;
  why: string[];
  routes: number;
}

export function probeTargets(input: TargetInputs): Target[] {
  const drafts = new Map<string, Draft>();
  const draft = (address: string, device: string): Draft => {
    const bare = address.split('%')[0];
    const zone = address.includes('%') ? address.slice(address.indexOf('%') + 1) : '';
    const key = isLinkLocal6(bare) ? `${bare}%${zone || device}` : bare;
    let d = drafts.get(key);
    if (d === undefined) {
      d = { address: key, family: familyOf(bare), device: '', ipip: false, why: [], routes: 0 };
      drafts.set(key, d);
    }
    return d;
  };
  for (const route of input.routes) {
    if (route.kind !== 'unicast' || !route.installed) continue;
    for (const hop of route.nextHops) {
      if (hop.via === '') continue;
      const d = draft(hop.via, hop.dev ?? '');
      d.routes += 1;
      if (d.why.length < 3) d.why.push(route.prefix);
      if (hop.dev !== undefined && hop.dev === input.tunnelDevice && hop.onlink === true) d.ipip = true;
      else if (hop.dev !== undefined && d.device === '') d.device = hop.dev;
    }
  }
  for (const peer of input.peers) {
    const d = draft(peer, '');
    if (!d.why.includes('peer')) d.why.unshift('peer');
  }
  const out: Target[] = [];
  for (const d of drafts.values()) {
    const tunnelMtu = d.ipip ? input.mtuOf(input.tunnelDevice) : null;
    const device = d.device !== '' ? d.device : input.deviceFor(d.address) ?? '';
    const deviceMtu = device === '' ? null : input.mtuOf(device);
    const [packetBytes, sizeFrom] = tunnelMtu !== null
      ? [tunnelMtu + IPIP_OUTER, 'tunnel' as const]
      : deviceMtu !== null ? [deviceMtu, 'device' as const] : [ASSUMED_MTU, 'assumed' as const];
    out.push({ address: d.address, family: d.family, device: d.ipip ? input.tunnelDevice : device, ipip: d.ipip, packetBytes, sizeFrom, why: d.why, routes: d.routes });
  }
  return out.sort((a, b) => a.family - b.family || compareAddress(a.address, b.address));
}

/** Numeric order for IPv4 (10.0.1.9 before 10.0.1.10), text order otherwise. */
function compareAddress(a: string, b: string): number {
  const na = a.split('.').map(Number);
  const nb = b.split('.').map(Number);
  if (na.length === 4 && nb.length === 4 && [...na, ...nb].every(Number.isInteger)) {
    for (let i = 0; i < 4; i++) if (na[i] !== nb[i]) return na[i] - nb[i];
    return 0;
  }
  return a < b ? -1 : a > b ? 1 : 0;
}
