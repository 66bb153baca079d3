/**
 * The Loc-RIB table: one Dest per prefix, holding every accepted path for it (the Adj-RIBs-In of
 * all peers, merged: a path knows its peer) with the best set first. IPv4 destinations are found
 * by number: one Map per prefix length keyed by the address as a signed 32-bit integer, which V8
 * keeps as a small integer with no allocation. IPv6 destinations are keyed by hex text (IPv6 tables
 * are small here). Not here: the decision (decision.ts) or what changed (rib.ts).
 */

import type { Prefix } from '../bgp/prefix.js';
import type { FamilyName } from '../session/negotiate.js';
import type { Path } from './path.js';

const NO_PATHS: Path[] = [];

export class Dest {
  /** Accepted paths; the first `nBest` are the best set (ECMP), best first. */
  paths: Path[] = NO_PATHS;
  nBest = 0;
  /** Index into STEP_NAMES of the step that decided. */
  step = 0;

  constructor(
    readonly len: number,
    /** IPv4: the address as a signed 32-bit integer; IPv6: 0. */
    readonly addr: number,
    readonly v6: Uint8Array | null,
  ) {}

  get family(): FamilyName {
    return this.v6 === null ? 'ipv4' : 'ipv6';
  }

  /** A fresh Prefix object (the table keeps none, to save memory). */
  prefix(pathId?: number): Prefix {
    const base: Prefix = this.v6 === null ? { afi: 1, len: this.len, addr: this.addr >>> 0 } : { afi: 2, len: this.len, addr: this.v6 };
    return pathId === undefined ? base : { ...base, pathId };
  }

  best(): Path[] {
    return this.nBest === 0 ? NO_PATHS : this.paths.slice(0, this.nBest);
  }
}

function v6Key(p: { len: number; addr: Uint8Array }): string {
  return `${Buffer.from(p.addr.buffer, p.addr.byteOffset, 16).toString('hex')}/${p.len}`;
}

export class PrefixTable {
  private readonly v4: Map<number, Dest>[] = Array.from({ length: 33 }, () => new Map<number, Dest>());
  private readonly v6 = new Map<string, Dest>();

  get(p: Prefix): Dest | undefined {
    return p.afi === 1 ? this.v4[p.len].get(p.addr | 0) : this.v6.get(v6Key(p));
  }

  getOrCreate(p: Prefix): Dest {
    if (p.afi === 1) {
      const m = this.v4[p.len];
      const key = p.addr | 0;
      let d = m.get(key);
      if (d === undefined) {
        d = new Dest(p.len, key, null);
        m.set(key, d);
      }
      return d;
    }
    const key = v6Key(p);
    let d = this.v6.get(key);
    if (d === undefined) {
      d = new Dest(p.len, 0, Uint8Array.from(p.addr.subarray(0, 16)));
      this.v6.set(key, d);
    }
    return d;
  }

  /** Removes `d` if it is the table's Dest for its prefix. */
  delete(d: Dest): void {
    if (d.v6 === null) {
      const m = this.v4[d.len];
      if (m.get(d.addr) === d) m.delete(d.addr);
    } else {
      const key = v6Key({ len: d.len, addr: d.v6 });
      if (this.v6.get(key) === d) this.v6.delete(key);
    }
  }

  forEach(family: FamilyName, fn: (d: Dest) => void): void {
    if (family === 'ipv6') {
      for (const d of this.v6.values()) fn(d);
      return;
    }
    for (const m of this.v4) for (const d of m.values()) fn(d);
  }

  size(family?: FamilyName): number {
    const v4 = family === 'ipv6' ? 0 : this.v4.reduce((n, m) => n + m.size, 0);
    const v6 = family === 'ipv4' ? 0 : this.v6.size;
    return v4 + v6;
  }
}
