/**
 * Paths and interned attribute sets: the memory layout that lets a million prefixes share a
 * handful of objects. An attribute set (without NEXT_HOP and the MP attributes, which carry
 * per-message data) is interned by its canonical encoding: equal sets are one frozen object.
 * A Path (one peer, one add-path identifier, one next hop, one attribute set) is interned per peer,
 * so every prefix of an UPDATE points at the same Path. Unused ones are found by the RIB's
 * occasional mark and sweep (path-set.ts), never counted per prefix. Decision inputs
 * (decision.ts Candidate) are computed once per Path, never per prefix.
 * Not here: which prefixes hold a path (table.ts, path-set.ts) or policy.
 */

import { encodeAttributes, type PathAttributes } from '../bgp/attributes.js';
import type { AsPathSegment } from '../bgp/as-path.js';
import { contextWith } from '../bgp/context.js';
import { MAX_EXTENDED_MESSAGE_LENGTH } from '../bgp/constants.js';
import type { Candidate } from './decision.js';
import { GRACEFUL_SHUTDOWN } from '../bgp/community-text.js';
import { SERVICE_PEER, type RibPath } from '../contracts/engines.js';

const KEY_CONTEXT = contextWith({ maxLength: MAX_EXTENDED_MESSAGE_LENGTH });

/**
 * The canonical text of an attribute set: its encoding (fixed attribute order), or, for a set the
 * encoder refuses (say a merged AS_PATH segment over 255 ASes), its JSON, so interning never throws.
 */
export function attributesKey(attrs: PathAttributes): string {
  try {
    return Buffer.from(encodeAttributes(attrs, KEY_CONTEXT)).toString('latin1');
  } catch {
    return `json:${JSON.stringify(attrs, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v))}`;
  }
}

export interface AttrEntry {
  readonly id: number;
  readonly key: string;
  readonly attributes: PathAttributes;
}

/** One object per distinct attribute set; sweep() forgets the ones no path uses any more. */
export class AttrStore {
  private readonly byKey = new Map<string, AttrEntry>();
  private nextId = 1;

  /** The interned entry for `attrs` (taken as they are: strip per-message attributes first). */
  intern(attrs: PathAttributes): AttrEntry {
    const key = attributesKey(attrs);
    let entry = this.byKey.get(key);
    if (entry === undefined) {
      entry = { id: this.nextId++, key, attributes: Object.freeze({ ...attrs }) };
      this.byKey.set(key, entry);
    }
    return entry;
  }

  /** Keeps only the entries in `live`. */
  sweep(live: ReadonlySet<AttrEntry>): void {
    for (const [key, entry] of this.byKey) if (!live.has(entry)) this.byKey.delete(key);
  }

  get size(): number {
    return this.byKey.size;
  }
}

/** Attributes as stored: NEXT_HOP and MP_(UN)REACH_NLRI removed (the Path holds the next hop). */
export function storedAttributes(a: PathAttributes): PathAttributes {
  const { nextHop: _n, mpReach: _r, mpUnreach: _u, ...rest } = a;
  return rest;
}

/** What a Path needs to know about the peer it came from; one object per peer session. */
export interface PathSource {
  /** PeerSpec.key, 'local' (own blocks) or SERVICE_PEER. */
  readonly key: string;
  readonly address: string;
  readonly external: boolean;
  /** The peer is our route-reflector client (RFC 4456). */
  readonly client: boolean;
  /** The peer's BGP identifier, dotted quad, and as a number. */
  readonly bgpId: string;
  readonly bgpIdNumber: number;
  readonly addressRank: string;
}

/** RFC 4271 9.1.2.2 (a): AS_SET counts 1; RFC 5065 5.3: confederation segments count 0. */
export function asPathLength(path: readonly AsPathSegment[] | undefined): number {
  let n = 0;
  for (const s of path ?? []) {
    if (s.type === 'sequence') n += s.asns.length;
    else if (s.type === 'set') n += 1;
  }
  return n;
}

/** The neighbouring AS (RFC 4271 9.1.2.2 (c)): first AS of a leading AS_SEQUENCE, else 0 (ours). */
export function neighborAs(path: readonly AsPathSegment[] | undefined): number {
  const first = path?.[0];
  return first !== undefined && first.type === 'sequence' ? first.asns[0] : 0;
}

function ipv4Number(text: string): number {
  const p = text.split('.');
  return ((Number(p[0]) << 24) | (Number(p[1]) << 16) | (Number(p[2]) << 8) | Number(p[3])) >>> 0;
}

/** A path in the RIB: the RibPath contract plus what the decision and export need. */
export class Path implements RibPath, Candidate {
  /** RFC 4724: kept from a session that went down with graceful restart, not yet re-learned. */
  stale = false;
  /**
   * RFC 7313 section 4: marked at the peer's BoRR for its family, not yet re-advertised; purged at
   * EoRR (refresh-stale.ts). Independent of `stale`: a path may carry either mark or both.
   */
  refreshStale = false;
  readonly attributes: PathAttributes;
  readonly local: boolean;
  readonly gracefulShutdown: boolean;
  readonly localPref: number;
  readonly asPathLength: number;
  readonly origin: number;
  readonly med: number;
  readonly neighborAs: number;
  readonly external: boolean;
  readonly routerId: number;
  readonly clusterListLength: number;
  readonly addressRank: string;
  readonly peer: string;
  readonly peerAddress: string;

  constructor(
    readonly source: PathSource,
    readonly pathId: number,
    readonly nextHop: string,
    readonly nextHopLinkLocal: string,
    readonly entry: AttrEntry,
    /** Key in the source's intern map. */
    readonly internKey: string,
    /** Path identifier we use when sending with add-path (RFC 7911): stable per (source, pathId). */
    readonly sendId: number,
    /** Unique among live paths: the identity path sets are interned by. */
    readonly uid: number,
  ) {
    const a = entry.attributes;
    this.attributes = a;
    this.peer = source.key;
    this.peerAddress = source.address;
    this.local = source.key === 'local' || source.key === SERVICE_PEER; // originated here
    // RFC 8326 section 4: 65535:0 received from a peer; our own paths never carry it in the RIB.
    this.gracefulShutdown = a.communities?.includes(GRACEFUL_SHUTDOWN) ?? false;
    this.localPref = a.localPref ?? 100;
    this.asPathLength = asPathLength(a.asPath);
    this.origin = a.origin ?? 2;
    this.med = a.med ?? 0;
    this.neighborAs = neighborAs(a.asPath);
    this.external = source.external;
    // RFC 4456 section 9: the ORIGINATOR_ID stands in for the router ID.
    this.routerId = a.originatorId !== undefined ? ipv4Number(a.originatorId) : source.bgpIdNumber;
    this.clusterListLength = a.clusterList?.length ?? 0;
    this.addressRank = source.addressRank;
  }
}

export function makeSource(s: Omit<PathSource, 'bgpIdNumber'>): PathSource {
  return Object.freeze({ ...s, bgpIdNumber: ipv4Number(s.bgpId) });
}
