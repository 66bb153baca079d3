/**
 * The inputs of import policy that a config reload changes: the node's own blocks (announced into
 * the Loc-RIB with peer 'local', and never accepted from a peer exactly) and the enabled pools
 * (what a peer may announce at all). Reload-safe: only the difference acts, and what peers sent
 * that the new inputs refuse leaves the Loc-RIB at once. Paths refused before cannot be recalled
 * (their attributes were not kept): a new pool needs a route refresh (RFC 2918), which the owner
 * asks for. A path outside the new pools that an import rule accepts stays (policy-rules.ts).
 * Not here: the per-UPDATE import (adj-in.ts) or the rules themselves (policy.ts).
 */

import { formatPrefix, parsePrefix, type Prefix } from '../bgp/prefix.js';
import type { AdjIn } from './adj-in.js';
import { RibError } from './errors.js';
import type { LocRib } from './loc-rib.js';
import type { Path } from './path.js';
import { FAMILIES, type FamilyName, familyOfAfi } from '../bgp/families.js';
import type { RibPeers } from './peers.js';
import { covers, inPools, prefixKey } from './policy.js';
import { candidates, firstMatch, peerMatches } from './policy-rules.js';

export function parseBlock(text: string): Prefix {
  try {
    return parsePrefix(text);
  } catch (err) {
    throw new RibError('RIB_BAD_PREFIX', `bad prefix ${JSON.stringify(text)}: ${(err as Error).message}`);
  }
}

export class OwnBlocks {
  private readonly blocks = new Map<string | number, Prefix>();
  /** The node's own paths, one per family: roots of the Loc-RIB's mark and sweep. */
  readonly paths: Record<FamilyName, Path>;

  constructor(
    private readonly loc: LocRib,
    private readonly adjIn: AdjIn,
    private readonly peers: RibPeers,
    routerId: string,
  ) {
    this.paths = adjIn.localPaths(routerId);
  }

  /** The node's own blocks, announced with peer 'local'; reload-safe (only the difference acts). */
  set(blocks: readonly string[]): { added: string[]; removed: string[] } {
    const want = new Map<string | number, Prefix>();
    for (const b of blocks) {
      const p = parseBlock(b); // throws before anything changed
      want.set(prefixKey(p), p);
    }
    const added: string[] = [];
    const removed: string[] = [];
    for (const [k, p] of this.blocks) {
      if (want.has(k)) continue;
      this.blocks.delete(k);
      removed.push(formatPrefix(p));
      this.loc.remove(p, 'local');
    }
    for (const [k, p] of want) {
      if (this.blocks.has(k)) continue;
      this.blocks.set(k, p);
      added.push(formatPrefix(p));
      this.add(p);
    }
    this.adjIn.policy = { ...this.adjIn.policy, ownBlocks: new Set(this.blocks.keys()) };
    return { added, removed };
  }

  /** New enabled pools: learned paths now outside every pool are refused, unless an import rule accepted them. */
  setPools(pools: readonly string[]): { refreshNeeded: boolean } {
    const parsed = pools.map(parseBlock);
    const before = this.adjIn.policy.pools;
    this.adjIn.policy = { ...this.adjIn.policy, pools: parsed };
    const rules = this.adjIn.rules;
    // The stored attributes carry the accepting rule's `set`; a rule that matched them then matches them now.
    const ruleAccepts = (p: Prefix, path: Path): boolean => {
      const spec = this.peers.get(path.peer)?.spec;
      if (spec === undefined || rules.rules.length === 0) return false;
      const peer = { address: spec.address, internal: spec.internal, interface: spec.interface };
      return firstMatch(candidates(rules, path.attributes, (r) => peerMatches(r, peer)), p)?.accept === true;
    };
    for (const f of FAMILIES) {
      const outside = (p: Prefix, path: Path): boolean => !inPools(p, this.adjIn.policy) && !ruleAccepts(p, path);
      for (const { prefix, path } of this.loc.dropWhere(f, outside)) {
        const ps = this.peers.get(path.peer);
        if (ps !== undefined) this.adjIn.refuse(ps, prefix, path.pathId);
      }
    }
    return { refreshNeeded: parsed.some((p) => !before.some((q) => covers(q, p))) };
  }

  private add(p: Prefix): void {
    // Import policy never accepts an own block exactly: what peers sent for it is refused now.
    for (const x of this.loc.replace(p, this.paths[familyOfAfi(p.afi)])) {
      const ps = this.peers.get(x.peer);
      if (ps !== undefined) this.adjIn.refuse(ps, p, x.pathId);
    }
  }
}
