/**
 * What the RIB keeps per peer: its interned paths, counters (received, accepted; advertised is its
 * update group's count less its own paths), graceful-restart bookkeeping (RFC 4724 section 4.2),
 * and its update group while the session is up (update-group.ts: the export memo lives there, one
 * per group, not one per peer). Not here: the decision or the tables.
 */

import type { Path, PathSource } from './path.js';
import type { UpdateGroup } from './update-group.js';
import type { FamilyName } from '../bgp/families.js';
import type { Negotiated, PeerSpec } from '../contracts/engines.js';

/** Per peer and family: the paths a BoRR marked, and the timer for an EoRR that never comes (refresh-stale.ts). */
export interface Refreshing {
  readonly marked: Path[];
  timer: unknown;
}

export class PeerState {
  negotiated: Negotiated | null = null;
  established = false;
  /** The initial feed (everything exportable, then End-of-RIB) has gone out. */
  fed = false;
  /** Interned paths of the current session, by `${pathId}|${nextHop}|${linkLocal}|${attrId}`. */
  readonly paths = new Map<string, Path>();
  /** Our add-path send identifier per path identifier of this peer. */
  readonly sendIds = new Map<number, number>();
  /** Paths (prefix + path id) in the Loc-RIB from this peer. */
  accepted = 0;
  /** Paths received but refused by import policy, by `${prefixKey}#${pathId}`. */
  readonly rejected = new Set<string>();
  /** The update group of the current session (null without one). */
  group: UpdateGroup | null = null;
  /** Families with stale paths from a graceful restart, and the timer that ends them. */
  readonly stale = new Set<FamilyName>();
  staleTimer: unknown = undefined;
  /** Enhanced route refreshes in progress (BoRR seen, EoRR not yet: refresh-stale.ts). */
  readonly refreshing = new Map<FamilyName, Refreshing>();
  /** maxPrefixes was exceeded: ignore the peer until its next session. */
  limitHit = false;
  /** Route refreshes asked for, served at the next flush. */
  readonly refresh = new Set<FamilyName>();

  constructor(
    public spec: PeerSpec,
    public source: PathSource,
  ) {}

  received(): number {
    return this.accepted + this.rejected.size;
  }

  carries(family: FamilyName): boolean {
    return this.negotiated?.families.includes(family) ?? false;
  }

  addPathSend(family: FamilyName): boolean {
    return this.negotiated?.addPathSend[family] ?? false;
  }

  /** Paths this peer holds from us (0 before its initial feed). */
  advertised(): number {
    return this.fed && this.group !== null ? this.group.advertisedTo(this.spec.key) : 0;
  }

  /** New session: forget what the last one sent and was sent. */
  resetSession(): void {
    this.fed = false;
    this.limitHit = false;
    this.refresh.clear();
    this.rejected.clear();
  }

  /** Drops what is known about paths no longer in use (after the RIB's sweep). */
  forget(live: ReadonlySet<Path>): void {
    for (const [key, p] of this.paths) if (!live.has(p)) this.paths.delete(key);
  }
}
