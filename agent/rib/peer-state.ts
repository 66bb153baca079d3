/**
 * What the RIB keeps per peer: its interned paths, counters (received, accepted, advertised),
 * graceful-restart bookkeeping (RFC 4724 section 4.2), and the memo of exported
 * attributes per path (export.ts is pure; the memo interns its results so prefixes sharing an
 * exported attribute set are grouped into one UPDATE). Not here: the decision or the tables.
 */

import type { PathAttributes } from '../bgp/attributes.js';
import { exportPath, type ExportNode } from './export.js';
import { attributesKey, type Path, type PathSource } from './path.js';
import type { FamilyName } from '../bgp/families.js';
import type { Negotiated, PeerSpec } from '../contracts/engines.js';

/** Per peer and family: the paths a BoRR marked, and the timer for an EoRR that never comes (refresh-stale.ts). */
export interface Refreshing {
  readonly marked: Path[];
  timer: unknown;
}

/** The export memo is dropped when it grows past this many paths (it is cheap to rebuild). */
const MEMO_LIMIT = 65536;

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
  readonly advertised: Record<FamilyName, number> = { ipv4: 0, ipv6: 0 };
  /** Families with stale paths from a graceful restart, and the timer that ends them. */
  readonly stale = new Set<FamilyName>();
  staleTimer: unknown = undefined;
  /** Enhanced route refreshes in progress (BoRR seen, EoRR not yet: refresh-stale.ts). */
  readonly refreshing = new Map<FamilyName, Refreshing>();
  /** maxPrefixes was exceeded: ignore the peer until its next session. */
  limitHit = false;
  /** Route refreshes asked for, served at the next flush. */
  readonly refresh = new Set<FamilyName>();
  private readonly memo = new Map<Path, PathAttributes | null>();
  private readonly interned = new Map<string, PathAttributes>();

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

  /** New session: forget what the last one sent and was sent. */
  resetSession(): void {
    this.fed = false;
    this.limitHit = false;
    this.refresh.clear();
    this.rejected.clear();
    this.advertised.ipv4 = 0;
    this.advertised.ipv6 = 0;
    this.memo.clear();
    this.interned.clear();
  }

  /** Drops what is known about paths no longer in use (after the RIB's sweep). */
  forget(live: ReadonlySet<Path>): void {
    for (const [key, p] of this.paths) if (!live.has(p)) this.paths.delete(key);
    for (const p of this.memo.keys()) if (!live.has(p)) this.memo.delete(p);
  }

  /** The attributes `path` is sent to this peer with (interned), or null. */
  exportOf(path: Path, node: ExportNode, family: FamilyName): PathAttributes | null {
    const hit = this.memo.get(path);
    if (hit !== undefined) return hit;
    if (this.memo.size >= MEMO_LIMIT) {
      this.memo.clear();
      this.interned.clear();
    }
    let out = exportPath(path, this.spec, node, family);
    if (out !== null) {
      const key = attributesKey(out);
      const known = this.interned.get(key);
      if (known !== undefined) out = known;
      else this.interned.set(key, (out = Object.freeze(out)));
    }
    this.memo.set(path, out);
    return out;
  }
}
