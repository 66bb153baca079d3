/**
 * Capability negotiation (RFC 5492): what both OPENs together allow, and the codec contexts for
 * each direction. Families (RFC 4760 section 8: no multiprotocol capability means IPv4 unicast
 * only), 4-octet AS (RFC 6793), add-path per family and direction (RFC 7911 section 4), extended
 * messages (RFC 8654), route refresh (RFC 2918, RFC 7313), graceful restart (RFC 4724), hold time
 * (RFC 4271 section 4.2: the smaller of the two), extended next hop for IPv4 unicast over IPv6
 * (RFC 8950 section 3). Pure: no sockets, no state.
 *
 * We offer extended next hop (IPv4 unicast, next-hop AFI IPv6) on every session whose transport is
 * IPv6 (local-open.ts), without a PeerSpec knob: on such a session our IPv6 address is the one
 * address the peer surely reaches us at (on an unnumbered link the only one), and the capability
 * only permits: a peer that does not send it back changes nothing (RFC 8950 section 3: without both
 * sides, IPv4 keeps NEXT_HOP), and one that does (BIRD `extended next hop on`, FRR unnumbered) asked
 * for it. On an IPv4 transport the IPv4 next hop is already the natural one, so we do not offer it.
 */

import {
  contextWith,
  MAX_EXTENDED_MESSAGE_LENGTH,
  MAX_MESSAGE_LENGTH,
  myAsField,
  peerAsOf,
  SAFI,
  type AddPathMode,
  type Capability,
  type OpenMessage,
} from '../bgp/index.js';
import { AFI_OF, type FamilyName } from '../bgp/families.js';
import type { Negotiated } from '../contracts/engines.js';


export interface LocalOpenOptions {
  readonly asn: number;
  readonly routerId: string;
  readonly holdTime: number;
  readonly families: readonly FamilyName[];
  /** RFC 8950: offer IPv4 unicast NLRI with IPv6 next hops (only with 'ipv4' in families). */
  readonly extendedNextHop?: boolean;
  /** Add-path per family: what we offer. */
  readonly addPath?: Partial<Record<FamilyName, AddPathMode>>;
  readonly gracefulRestart?: {
    readonly restartTime: number;
    /** R bit: we are restarting (RFC 4724 section 3). */
    readonly restarting: boolean;
    /** F bit per family: forwarding state was preserved across our restart. */
    readonly forwarding: boolean;
  };
}

/** Our OPEN: capabilities in a fixed order, My AS as AS_TRANS when the AS needs 4 octets. */
export function buildOpen(o: LocalOpenOptions): OpenMessage {
  const caps: Capability[] = o.families.map((f) => ({ kind: 'multiprotocol', afi: AFI_OF[f], safi: SAFI.UNICAST }));
  if (o.extendedNextHop && o.families.includes('ipv4')) caps.push({ kind: 'extended-next-hop', tuples: [IPV4_OVER_IPV6] });
  caps.push({ kind: 'route-refresh' }, { kind: 'enhanced-route-refresh' }, { kind: 'extended-message' });
  if (o.gracefulRestart) {
    const gr = o.gracefulRestart;
    caps.push({
      kind: 'graceful-restart',
      restarting: gr.restarting,
      notification: true,
      restartTime: gr.restartTime,
      families: o.families.map((f) => ({ afi: AFI_OF[f], safi: SAFI.UNICAST, forwarding: gr.forwarding })),
    });
  }
  caps.push({ kind: 'four-octet-as', asn: o.asn });
  const addPath = o.families.flatMap((f) => {
    const mode = o.addPath?.[f];
    return mode ? [{ afi: AFI_OF[f], safi: SAFI.UNICAST, mode }] : [];
  });
  if (addPath.length > 0) caps.push({ kind: 'add-path', families: addPath });
  return { type: 'open', version: 4, myAs: myAsField(o.asn), holdTime: o.holdTime, bgpId: o.routerId, capabilities: caps };
}

/** The one extended next hop tuple the agent speaks: IPv4 unicast NLRI, IPv6 next hop. */
const IPV4_OVER_IPV6 = { afi: AFI_OF.ipv4, safi: SAFI.UNICAST, nextHopAfi: AFI_OF.ipv6 } as const;

function extendedNextHopIpv4(open: OpenMessage): boolean {
  return open.capabilities.some((c) => c.kind === 'extended-next-hop' &&
    c.tuples.some((x) => x.afi === IPV4_OVER_IPV6.afi && x.safi === IPV4_OVER_IPV6.safi && x.nextHopAfi === IPV4_OVER_IPV6.nextHopAfi));
}

function has(open: OpenMessage, kind: Capability['kind']): boolean {
  return open.capabilities.some((c) => c.kind === kind);
}

function familiesOf(open: OpenMessage): FamilyName[] {
  const mp = open.capabilities.filter((c): c is Extract<Capability, { kind: 'multiprotocol' }> => c.kind === 'multiprotocol');
  // RFC 4760 section 8: a speaker that sends no multiprotocol capability speaks IPv4 unicast.
  if (mp.length === 0) return ['ipv4'];
  return (['ipv4', 'ipv6'] as const).filter((f) => mp.some((c) => c.afi === AFI_OF[f] && c.safi === SAFI.UNICAST));
}

function addPathMode(open: OpenMessage, f: FamilyName): AddPathMode | undefined {
  for (const c of open.capabilities) {
    if (c.kind !== 'add-path') continue;
    const entry = c.families.find((x) => x.afi === AFI_OF[f] && x.safi === SAFI.UNICAST);
    if (entry) return entry.mode;
  }
  return undefined;
}

const canSend = (m?: AddPathMode): boolean => m === 'send' || m === 'both';
const canReceive = (m?: AddPathMode): boolean => m === 'receive' || m === 'both';

export function negotiate(local: OpenMessage, peer: OpenMessage, external: boolean): Negotiated {
  const ours = familiesOf(local);
  const theirs = familiesOf(peer);
  const families = ours.filter((f) => theirs.includes(f));
  const both = (kind: Capability['kind']): boolean => has(local, kind) && has(peer, kind);
  const fourOctetAs = both('four-octet-as');
  const extendedMessage = both('extended-message');
  const addPathReceive = { ipv4: false, ipv6: false };
  const addPathSend = { ipv4: false, ipv6: false };
  for (const f of families) {
    // RFC 7911 section 4: we receive path ids when we offered receive and the peer offered send.
    addPathReceive[f] = canReceive(addPathMode(local, f)) && canSend(addPathMode(peer, f));
    addPathSend[f] = canSend(addPathMode(local, f)) && canReceive(addPathMode(peer, f));
  }
  const gr = peer.capabilities.find((c): c is Extract<Capability, { kind: 'graceful-restart' }> => c.kind === 'graceful-restart');
  const holdTime = Math.min(local.holdTime, peer.holdTime);
  const maxLength = extendedMessage ? MAX_EXTENDED_MESSAGE_LENGTH : MAX_MESSAGE_LENGTH;
  // RFC 8950 section 3: usable only when both sides sent the tuple.
  const enh = extendedNextHopIpv4(local) && extendedNextHopIpv4(peer);
  const base = { fourOctetAs, external, maxLength, extendedNextHopIpv4: enh };
  return {
    peerAs: peerAsOf(peer),
    peerId: peer.bgpId,
    holdTime,
    keepaliveTime: Math.floor(holdTime / 3),
    families,
    fourOctetAs,
    extendedMessage,
    routeRefresh: both('route-refresh'),
    enhancedRouteRefresh: both('enhanced-route-refresh'),
    addPathReceive,
    addPathSend,
    extendedNextHop: { ipv4: enh },
    ...(gr ? { peerGracefulRestart: { restartTime: gr.restartTime, restarting: gr.restarting, notification: gr.notification, families: gr.families } } : {}),
    localGracefulRestart: has(local, 'graceful-restart'),
    decode: contextWith({ ...base, addPathIpv4: addPathReceive.ipv4, addPathIpv6: addPathReceive.ipv6 }),
    encode: contextWith({ ...base, addPathIpv4: addPathSend.ipv4, addPathIpv6: addPathSend.ipv6 }),
  };
}
