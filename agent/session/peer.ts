import type { FamilyName } from '../bgp/families.js';
/**
 * PeerSpec: one BGP neighbour exactly as a Session needs it, resolved from the config by the
 * peer-set logic (explicit peers, node-to-node mesh, peerSelector). Plain data: the reload path
 * compares two PeerSpecs with the same `key` to decide whether a session must restart.
 * Not here: how peers are chosen (agent/peers/peer-set.ts) or how a session runs (session.ts).
 */


/** How `agentctl status` names where a peer came from (SPEC.md "PEER TYPE"). */
export type PeerType = 'node specific' | 'global' | 'node-to-node mesh';

export interface PeerSpec {
  /** Stable identity: `address` for port 179, else `address:port` (`[v6]:port`). */
  readonly key: string;
  readonly address: string;
  readonly port: number;
  readonly family: FamilyName;
  readonly type: PeerType;
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
  readonly bfd: { readonly enabled: boolean; readonly minRxMs: number; readonly minTxMs: number; readonly multiplier: number; readonly strict: boolean };
}
