/**
 * Config -> PeerSpec[]: every BGP neighbour this node should have, as Calico's confd derives them.
 * - Explicit peers (peerIP): scope node -> 'node specific', global -> 'global'.
 * - peerSelector: one peer per selected entry of bgp.nodes (not this node), to its IPv4 address,
 *   in that node's AS, with the selecting entry's options.
 * - Node-to-node mesh (bgp.nodeToNodeMesh): every entry of bgp.nodes but this node; nodes with a
 *   routeReflectorClusterID stay out of the mesh, as in Calico (a reflector node has no mesh
 *   peers at all). Of each pair the higher address waits (passive), so the two do not collide.
 * - One session per neighbour address: an explicit node peer wins over a global one, explicit over
 *   selected, selected over mesh.
 * Per peer: iBGP when the AS equals ours; route-reflector client when we have a cluster ID, the
 * peer is iBGP and its own cluster ID (from bgp.nodes, if listed) differs (Calico's rule, RFC 4456);
 * localAddress is our address of the peer's family with sourceAddress UseNodeIP; TTL 1 for
 * directly connected eBGP (the peer inside our interface's subnet) without GTSM or multihop, 255
 * otherwise; families: an IPv4 session carries IPv4, and IPv6 too when the node has an IPv6
 * address (MP-BGP, RFC 4760); an IPv6 session carries IPv6, and IPv4 too when the node has no IPv4
 * peer at all (an IPv6-only fabric: the node's IPv4 blocks can leave only over IPv6 sessions, with
 * an IPv6 next hop when the peer negotiates RFC 8950 extended next hop; a dual-stack node keeps one
 * session per family, as Calico does).
 * - Interface peers (BGP unnumbered, RFC 8950): keyed by the interface name; the address is the
 *   link-local neighbour found on that link (`neighbours`, from link-neighbours.ts), with its zone,
 *   or '' until one is found (the session then only listens). One session carries IPv4 and IPv6;
 *   our next hop is our link-local address on the link. `external` allows any AS but ours (peerAs
 *   0, checked against the OPEN), `internal` is ours. TTL 1 for eBGP without GTSM (on the link).
 * Pure. Not here: running sessions, or comparing two peer sets on reload (the caller diffs by key).
 */

import { parsePrefix } from '../bgp/prefix.js';
import type { Config, NodeEntry, PeerConfig } from '../../config/types.js';
import { addressRank } from '../rib/decision.js';
import { RibError } from '../rib/errors.js';
import { addressBytes, covers } from '../rib/policy.js';
import { matches, parseSelector, type Selector } from './selector.js';
import type { FamilyName } from '../bgp/families.js';
import type { PeerSpec, PeerType } from '../contracts/engines.js';

const BGP_PORT = 179;

const stripLength = (cidr: string): string => (cidr === '' ? '' : cidr.slice(0, cidr.indexOf('/')));

export function peerKey(address: string, port: number): string {
  if (port === BGP_PORT) return address;
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

interface Candidate {
  readonly address: string;
  readonly port: number;
  readonly peerAs: number;
  readonly type: PeerType;
  /** The peer's own cluster ID when it is a known node, else ''. */
  readonly clusterId: string;
  readonly options: Pick<PeerConfig, 'passwordFile' | 'sourceAddress' | 'holdTime' | 'keepaliveTime' | 'sendHoldTime' | 'ttlSecurity' | 'nextHopMode' | 'maxPrefixes' | 'passive' | 'bfd'>;
  /** Lower wins when two sources name the same address. */
  readonly rank: number;
}

/** Parses every peerSelector; the problems name their key, as config problems do. */
export function selectorProblems(config: Config): { path: string; message: string }[] {
  const out: { path: string; message: string }[] = [];
  config.bgp.peers.forEach((p, i) => {
    if (p.peerSelector === '') return;
    try {
      parseSelector(p.peerSelector);
    } catch (err) {
      out.push({ path: `bgp.peers[${i}].peerSelector`, message: (err as Error).message });
    }
  });
  return out;
}

/** What is known of an interface peer's link: the neighbour's and our link-local addresses (no zone). */
export interface LinkNeighbour {
  readonly peer: string;
  readonly local: string;
}

export function peerSet(config: Config, neighbours: ReadonlyMap<string, LinkNeighbour> = new Map()): PeerSpec[] {
  const { node, bgp } = config;
  const self = new Set([node.name, stripLength(node.ipv4Address), stripLength(node.ipv6Address)].filter((x) => x !== ''));
  const others = bgp.nodes.filter((n) => !self.has(n.name) && !self.has(stripLength(n.ipv4Address)));
  const clusterOf = new Map<string, string>();
  for (const n of bgp.nodes) {
    clusterOf.set(stripLength(n.ipv4Address), n.routeReflectorClusterID);
    if (n.ipv6Address !== '') clusterOf.set(stripLength(n.ipv6Address), n.routeReflectorClusterID);
  }
  const meshOptions: Candidate['options'] = {
    passwordFile: '', sourceAddress: 'UseNodeIP', holdTime: bgp.holdTime, keepaliveTime: bgp.keepaliveTime, sendHoldTime: bgp.sendHoldTime,
    ttlSecurity: 0, nextHopMode: 'Auto', maxPrefixes: 0, passive: false, bfd: bgp.bfd,
  };
  const found: Candidate[] = [];
  bgp.peers.forEach((p, i) => {
    const type: PeerType = p.scope === 'node' ? 'node specific' : 'global';
    const rank = p.scope === 'node' ? 0 : 1;
    if (p.interface !== '') return;
    if (p.peerIP !== '') {
      found.push({ address: p.address, port: p.port, peerAs: typeof p.asNumber === 'number' ? p.asNumber : node.asNumber, type, clusterId: clusterOf.get(p.address) ?? '', options: p, rank });
      return;
    }
    let selector: Selector;
    try {
      selector = parseSelector(p.peerSelector);
    } catch (err) {
      throw new RibError('PEER_SET_INVALID', `bgp.peers[${i}].peerSelector: ${(err as Error).message}`, `bgp.peers[${i}].peerSelector`);
    }
    for (const n of others) {
      if (!matches(selector, n.labels)) continue;
      found.push({ address: stripLength(n.ipv4Address), port: BGP_PORT, peerAs: n.asNumber, type, clusterId: n.routeReflectorClusterID, options: p, rank: rank + 2 });
    }
  });
  if (bgp.nodeToNodeMesh && node.routeReflectorClusterID === '') {
    const ours = addressRank(addressBytes(stripLength(node.ipv4Address)));
    for (const n of others.filter((x: NodeEntry) => x.routeReflectorClusterID === '')) {
      const address = stripLength(n.ipv4Address);
      // The higher address waits, so the pair opens one connection.
      const passive = ours > addressRank(addressBytes(address));
      found.push({ address, port: BGP_PORT, peerAs: n.asNumber, type: 'node-to-node mesh', clusterId: '', options: { ...meshOptions, passive }, rank: 4 });
    }
  }
  const byKey = new Map<string, Candidate>();
  for (const c of found) {
    const key = peerKey(c.address, c.port);
    const had = byKey.get(key);
    if (had === undefined || c.rank < had.rank) byKey.set(key, c);
  }
  const ipv4Peers = [...byKey.values()].some((c) => !c.address.includes(':'));
  const specs = [...byKey].map(([key, c]) => toSpec(config, key, c, !ipv4Peers));
  for (const p of bgp.peers) if (p.interface !== '') specs.push(interfaceSpec(config, p, neighbours.get(p.interface)));
  return specs;
}

/** An interface peer (BGP unnumbered) as its link stands now. */
function interfaceSpec(config: Config, p: PeerConfig, n: LinkNeighbour | undefined): PeerSpec {
  const { node, bgp } = config;
  const peerAs = p.asNumber === 'external' ? 0 : p.asNumber === 'internal' || p.asNumber === null ? node.asNumber : p.asNumber;
  const internal = peerAs === node.asNumber;
  return {
    key: p.interface,
    address: n === undefined ? '' : `${n.peer}%${p.interface}`,
    interface: p.interface,
    port: BGP_PORT,
    family: 'ipv6',
    type: p.scope === 'node' ? 'node specific' : 'global',
    peerAs,
    localAs: node.asNumber,
    routerId: node.routerId,
    internal,
    // Our next hop on this link; the connection itself needs no bind (the zone picks the link).
    localAddress: n?.local ?? '',
    passwordFile: '',
    holdTime: p.holdTime,
    keepaliveTime: p.keepaliveTime,
    sendHoldTime: p.sendHoldTime,
    ttlSecurity: p.ttlSecurity,
    ttl: !internal && p.ttlSecurity === 0 ? 1 : 255,
    nextHopMode: p.nextHopMode,
    maxPrefixes: p.maxPrefixes,
    passive: p.passive || n === undefined,
    routeReflectorClient: node.routeReflectorClusterID !== '' && internal,
    families: ['ipv4', 'ipv6'],
    gracefulRestart: bgp.gracefulRestart,
    bfd: { ...p.bfd },
  };
}

function toSpec(config: Config, key: string, c: Candidate, ipv4OverIpv6: boolean): PeerSpec {
  const { node, bgp } = config;
  const family: FamilyName = c.address.includes(':') ? 'ipv6' : 'ipv4';
  const ourCidr = family === 'ipv4' ? node.ipv4Address : node.ipv6Address;
  const internal = c.peerAs === node.asNumber;
  const o = c.options;
  // Directly connected: the peer sits in the subnet of our interface address of its family.
  const direct = ourCidr !== '' && covers(parsePrefix(ourCidr), parsePrefix(`${c.address}/${family === 'ipv4' ? 32 : 128}`));
  const families: FamilyName[] = family === 'ipv4' ? (node.ipv6Address !== '' ? ['ipv4', 'ipv6'] : ['ipv4']) : ipv4OverIpv6 ? ['ipv4', 'ipv6'] : ['ipv6'];
  return {
    key,
    address: c.address,
    port: c.port,
    family,
    type: c.type,
    peerAs: c.peerAs,
    localAs: node.asNumber,
    routerId: node.routerId,
    internal,
    localAddress: o.sourceAddress === 'UseNodeIP' ? stripLength(ourCidr) : '',
    passwordFile: o.passwordFile,
    holdTime: o.holdTime,
    keepaliveTime: o.keepaliveTime,
    sendHoldTime: o.sendHoldTime,
    ttlSecurity: o.ttlSecurity,
    ttl: !internal && o.ttlSecurity === 0 && direct ? 1 : 255,
    nextHopMode: o.nextHopMode,
    maxPrefixes: o.maxPrefixes,
    passive: o.passive,
    routeReflectorClient: node.routeReflectorClusterID !== '' && internal && c.clusterId !== node.routeReflectorClusterID,
    families,
    gracefulRestart: bgp.gracefulRestart,
    bfd: { ...o.bfd },
  };
}
