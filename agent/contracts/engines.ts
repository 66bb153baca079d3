/**
 * The contracts between the engines (STYLE.md "The house"): the plain data that passes between
 * sessions, the RIB, the FIB and the daemon, one way, like OpenBGPD's imsgs. Types only (and the
 * FSM's state names, and two pure readers of a shared update), so any engine may import this and none
 * imports another engine for a type.
 * - PeerSpec: one BGP neighbour exactly as a Session needs it, resolved from the config by
 *   agent/peers; the reload compares two PeerSpecs with the same `key` to decide whether a session
 *   must restart.
 * - Negotiated: what OPEN negotiation gave a session (agent/session/negotiate.ts computes it).
 * - SessionEvent: what sessions hand on, delivered synchronously, in arrival order, by the
 *   session's digest loop (the handler must be quick per event); SessionStatus: the snapshot
 *   `agentctl status` and metrics read.
 * - RibChange: what the RIB hands the FIB (netlink/fib); OutboundItem: a peer's outbound stream
 *   (UPDATEs and the markers between them), which its session only encodes and sends, in order.
 * Not here: how any of them is computed; the control protocol's answers (agent/control/api.ts).
 */

import type { PathAttributes } from '../bgp/attributes.js';
import type { FamilyRef } from '../bgp/capabilities.js';
import type { CodecContext } from '../bgp/context.js';
import type { FamilyName } from '../bgp/families.js';
import type { PackInput } from '../bgp/pack.js';
import type { Prefix } from '../bgp/prefix.js';
import type { UpdateMessage } from '../bgp/update.js';

// ---- peers -------------------------------------------------------------------------------------

/** How `agentctl status` names where a peer came from (SPEC.md "PEER TYPE"). */
export type PeerType = 'node specific' | 'global' | 'node-to-node mesh';

export interface PeerSpec {
  /** Stable identity: `address` for port 179, else `address:port` (`[v6]:port`); an interface peer's interface name. */
  readonly key: string;
  /**
   * The peer's address. An interface peer (BGP unnumbered): its link-local address with the zone
   * (`fe80::1%eth0`) once found on the link, '' until then (the session then only listens).
   */
  readonly address: string;
  /** BGP unnumbered: the interface whose link-local neighbour is the peer; '' or absent otherwise. */
  readonly interface?: string;
  readonly port: number;
  readonly family: FamilyName;
  readonly type: PeerType;
  /** 0 (interface peers with `asNumber: external` only): any AS but ours, learned from its OPEN. */
  readonly peerAs: number;
  readonly localAs: number;
  /** Our BGP identifier, dotted quad. */
  readonly routerId: string;
  /** iBGP when peerAs === localAs. */
  readonly internal: boolean;
  /** Local address to bind and to use as our next hop; '' lets the kernel choose. */
  readonly localAddress: string;
  /** Path of the TCP MD5 key file, or ''. The key itself is read by the session, never stored here. */
  readonly passwordFile: string;
  readonly holdTime: number;
  readonly keepaliveTime: number;
  /**
   * RFC 9687 SendHoldTime, seconds; 0: off; null: the RFC's suggested default, the greater of
   * 480 s and twice the negotiated hold time (send-hold.ts).
   */
  readonly sendHoldTime: number | null;
  /** >0: GTSM with that many hops (RFC 5082); 0: off. */
  readonly ttlSecurity: number;
  /** TTL 1 for directly connected eBGP without GTSM; 255 otherwise. */
  readonly ttl: number;
  readonly nextHopMode: 'Auto' | 'Self' | 'Keep';
  /** 0: no limit (RFC 4486 Cease subcode 1 when exceeded). */
  readonly maxPrefixes: number;
  /** Never connect; wait for the peer (the mesh's higher address, or config `passive`). */
  readonly passive: boolean;
  /** We reflect for this peer (we have a cluster ID and it does not share it). */
  readonly routeReflectorClient: boolean;
  /** Families offered in our OPEN. */
  readonly families: readonly FamilyName[];
  readonly gracefulRestart: { readonly enabled: boolean; readonly restartTime: number };
  /**
   * RFC 5880 / 5881 BFD for this session (intervals in ms). Changing it never restarts the BGP
   * session (manager.ts RELABEL_ONLY); the BFD engine takes the change (Poll Sequence). `strict`:
   * after BFD Down the session waits for BFD Up (RFC 9384 strict mode); otherwise it may come back
   * while BFD stays Down (session.ts bfdDown).
   */
  readonly bfd: {
    readonly enabled: boolean; readonly minRxMs: number; readonly minTxMs: number; readonly multiplier: number; readonly strict: boolean;
    /** RFC 5883 multihop: auto (coupling.ts decides), on, off. */
    readonly multihop: 'auto' | 'on' | 'off';
    /** Multihop only: the lowest received TTL accepted (RFC 5883 section 5); 0: no check. */
    readonly minTtl: number;
  };
}

// ---- negotiation -------------------------------------------------------------------------------

export interface PeerGracefulRestart {
  readonly restartTime: number;
  readonly restarting: boolean;
  readonly notification: boolean;
  /** Families the peer preserves routes for, with its F bit. */
  readonly families: readonly (FamilyRef & { readonly forwarding: boolean })[];
}

export interface Negotiated {
  readonly peerAs: number;
  readonly peerId: string;
  readonly holdTime: number;
  readonly keepaliveTime: number;
  readonly families: readonly FamilyName[];
  readonly fourOctetAs: boolean;
  readonly extendedMessage: boolean;
  readonly routeRefresh: boolean;
  readonly enhancedRouteRefresh: boolean;
  /** Path identifiers on what we receive / what we send, per family. */
  readonly addPathReceive: Readonly<Record<FamilyName, boolean>>;
  readonly addPathSend: Readonly<Record<FamilyName, boolean>>;
  /**
   * RFC 8950: both sides sent the extended next hop capability for IPv4 unicast with next-hop AFI
   * IPv6, so IPv4 routes may carry IPv6 next hops both ways (decode.extendedNextHopIpv4 likewise).
   */
  readonly extendedNextHop: { readonly ipv4: boolean };
  /** The peer's graceful-restart capability, if it sent one. */
  readonly peerGracefulRestart?: PeerGracefulRestart;
  /** Whether our own graceful-restart capability went out. */
  readonly localGracefulRestart: boolean;
  /** Context for decoding what the peer sends, and for encoding what we send. */
  readonly decode: CodecContext;
  readonly encode: CodecContext;
}

// ---- sessions ----------------------------------------------------------------------------------

/** The BGP FSM's states (RFC 4271 section 8.2.2). */
export const STATES = ['Idle', 'Connect', 'Active', 'OpenSent', 'OpenConfirm', 'Established'] as const;
export type State = (typeof STATES)[number];

export type SessionEvent =
  /** The session reached Established; `negotiated` holds the codec contexts both ways. */
  | { readonly type: 'established'; readonly peer: PeerSpec; readonly negotiated: Negotiated }
  /** A decoded UPDATE (treat-as-withdraw already applied: its NLRI moved to `withdrawn`). */
  | { readonly type: 'update'; readonly peer: PeerSpec; readonly update: UpdateMessage }
  /** The peer asked for our routes again (RFC 2918). */
  | { readonly type: 'route-refresh'; readonly peer: PeerSpec; readonly family: FamilyName }
  /**
   * The peer's BoRR ('begin') or EoRR ('end') around its re-advertisement of `family` (RFC 7313
   * section 4); only when enhanced route refresh was negotiated and the family is the session's.
   */
  | { readonly type: 'refresh-marker'; readonly peer: PeerSpec; readonly family: FamilyName; readonly marker: 'begin' | 'end' }
  /**
   * The session left Established. `gracefulRestart` is set when the peer's routes should be kept
   * as stale (RFC 4724: it negotiated GR and the session did not end with a Cease we sent or a
   * NOTIFICATION without the N bit); null means flush its routes now.
   */
  | {
      readonly type: 'down';
      readonly peer: PeerSpec;
      readonly reason: string;
      readonly gracefulRestart: { readonly restartTime: number; readonly families: readonly FamilyName[] } | null;
    };

export interface MessageCounts {
  readonly open: number;
  readonly update: number;
  readonly notification: number;
  readonly keepalive: number;
  readonly routeRefresh: number;
}

export interface SessionStatus {
  readonly key: string;
  /** The peer's address; an interface peer's interface name (its address is `linkLocal`). */
  readonly address: string;
  /** An interface peer's link-local address, '' while none is known; absent for other peers. */
  readonly linkLocal?: string;
  readonly family: FamilyName;
  readonly type: PeerSpec['type'];
  /** The configured AS, or the one the peer's OPEN gave when any external AS was allowed. */
  readonly peerAs: number;
  readonly state: State;
  /** Epoch milliseconds of the last state change. */
  readonly since: number;
  /** In words, e.g. `Socket: Connection refused`, `Received: Bad peer AS`, `Hold timer expired`; '' if none. */
  readonly lastError: string;
  readonly enabled: boolean;
  readonly messagesIn: MessageCounts;
  readonly messagesOut: MessageCounts;
  /** Negotiated capability names once Established, e.g. `4-octet AS`, `route refresh`. */
  readonly capabilities: readonly string[];
  readonly holdTime: number;
  readonly keepaliveTime: number;
  /** The peer's accepted-prefix limit from its PeerSpec; 0: none. */
  readonly maxPrefixes: number;
  /** Send hold timer expiries of this session since it was created (RFC 9687). */
  readonly sendHoldExpired: number;
  /** UPDATEs treated as withdrawn for an AS_SET or AS_CONFED_SET (RFC 9774), since the agent started. */
  readonly asSetWithdrawn: number;
  /** UPDATEs treated as withdrawn for an IPv6 next hop on IPv4 NLRI without RFC 8950, since the agent started. */
  readonly nextHopFamilyWithdrawn: number;
}

// ---- the RIB's output --------------------------------------------------------------------------

/**
 * RibPath.peer of an anycast service's route (SPEC.md "Anycast services"): originated here like an
 * own block ('local'), but nothing goes in the kernel for it (the address is the operator's).
 */
export const SERVICE_PEER = 'service';

/** One path in the Loc-RIB. Attribute objects are interned: equal sets are the same object. */
export interface RibPath {
  /** PeerSpec.key of the peer it came from, 'local' for the node's own blocks, SERVICE_PEER for a service. */
  readonly peer: string;
  /** Add-path identifier from that peer (0 without add-path). */
  readonly pathId: number;
  /** Next hop as text; '' for a local block (blackhole), or when the peer sent a link-local one only. */
  readonly nextHop: string;
  /**
   * An IPv6 next hop's link-local part (IPv6 routes, and IPv4 routes over RFC 8950), beside the
   * global one or alone, or ''.
   */
  readonly nextHopLinkLocal: string;
  /** The peer's address (for resolving the link-local next hop's device). */
  readonly peerAddress: string;
  readonly attributes: PathAttributes;
}

/**
 * The best set for a prefix changed. `best` empty: the prefix is gone. A local block has a single
 * best path with peer 'local'. `best` holds every multipath member (ECMP), best first.
 */
export interface RibChange {
  readonly prefix: Prefix;
  readonly best: readonly RibPath[];
  readonly old: readonly RibPath[];
}

/** What to send to one peer: the input of packUpdates (agent/bgp/pack.ts), per family. */
export type OutboundUpdate = PackInput;

/**
 * One part of a shared update: routes for every recipient but `except` (the routes came from that
 * peer: never back to it, RFC 4271 section 9.2), or for `only` that one recipient (a peer whose own
 * path became best must withdraw the path it held from another). At most one of the two is set.
 */
export interface OutboundPart {
  readonly except?: string;
  readonly only?: string;
  readonly update: OutboundUpdate;
}

/**
 * The same UPDATEs for every member of an update group (peers whose outbound policy and encoding
 * are the same, FRR's term): the RIB hands one object to each member, so a session packs it once
 * for all (agent/session/shared-pack.ts) and writes each member its parts (outboundFor).
 */
export interface SharedUpdate {
  readonly kind: 'shared';
  readonly parts: readonly OutboundPart[];
}

/** Whether `peer` receives `part` of a shared update. */
export function partFor(part: OutboundPart, peer: string): boolean {
  return part.except !== peer && (part.only === undefined || part.only === peer);
}

/** What one member of a shared update receives, as one OutboundUpdate (for tests and listings). */
export function outboundFor(item: SharedUpdate, peer: string): OutboundUpdate {
  const withdraw: Prefix[] = [];
  const announce: NonNullable<OutboundUpdate['announce']>[number][] = [];
  for (const part of item.parts) {
    if (!partFor(part, peer)) continue;
    withdraw.push(...(part.update.withdraw ?? []));
    announce.push(...(part.update.announce ?? []));
  }
  return withdraw.length > 0 ? { withdraw, announce } : { announce };
}

/**
 * One element of a peer's outbound stream, in wire order. The RIB decides all of it; the session
 * encodes each item as it comes and must not reorder them (transmit.ts):
 * - `update`: routes and withdrawals (RFC 4271 section 4.3); `shared`: the same, common to an update
 *   group (the member's own parts only).
 * - `end-of-rib`: the initial feed of `family` is complete (RFC 4724 section 2).
 * - `begin-refresh` / `end-refresh`: BoRR and EoRR around a route refresh's re-advertisement
 *   (RFC 7313 section 4), only when the peer negotiated enhanced route refresh. The receiver marks
 *   the family's routes from us stale at BoRR and removes those not re-sent at EoRR, so every
 *   UPDATE of the refresh must be between the two.
 * - `request-refresh`: a ROUTE-REFRESH request (RFC 2918) asking the peer to send `family` again,
 *   after the import rules changed; only to a peer that negotiated route refresh.
 */
export type OutboundItem =
  | { readonly kind: 'update'; readonly update: OutboundUpdate }
  | SharedUpdate
  | { readonly kind: 'end-of-rib'; readonly family: FamilyName }
  | { readonly kind: 'begin-refresh'; readonly family: FamilyName }
  | { readonly kind: 'end-refresh'; readonly family: FamilyName }
  | { readonly kind: 'request-refresh'; readonly family: FamilyName };
