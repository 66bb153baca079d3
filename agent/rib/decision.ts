/**
 * The decision process (RFC 4271 section 9.1.2.2, RFC 4456 section 9) as an ordered array of named
 * steps, in the manner of OpenBGPD's rde_decide.c: each step keeps the candidates that are best by
 * its criterion, and the step that leaves one candidate standing is the reason shown by agentctl.
 * Elimination over the whole set (rather than pairwise sorting) keeps the MED step, which is not
 * transitive, independent of the order the paths arrived in: a path is removed only by a path from
 * the same neighbouring AS with a lower MED (RFC 4271 9.1.2.2 (c)).
 * Multipath: the paths still standing before the router-ID step form the ECMP set, ordered by the
 * remaining (total) steps and cut to `multipath` entries.
 * Not here: IGP cost to the next hop (the agent has no IGP; every next hop is reachable or the
 * path was not accepted), and policy (policy.ts). Pure: no state.
 */

/** What the decision needs of a path; the RIB precomputes these once per interned path. */
export interface Candidate {
  /** Our own block: preferred over anything learned (as a static route outranks BGP in BIRD). */
  readonly local: boolean;
  /** RFC 8326: the path carries GRACEFUL_SHUTDOWN (65535:0); below every path without it. */
  readonly gracefulShutdown: boolean;
  /** LOCAL_PREF, 100 when absent (the value we would have assigned). */
  readonly localPref: number;
  /** AS_PATH length: an AS_SET counts 1, confederation segments 0 (RFC 5065 section 5.3). */
  readonly asPathLength: number;
  /** ORIGIN: 0 IGP, 1 EGP, 2 INCOMPLETE. */
  readonly origin: number;
  /** MULTI_EXIT_DISC; absent counts as 0, the lowest (RFC 4271 9.1.2.2 (c)). */
  readonly med: number;
  /** First AS of the AS_PATH; 0 for a path from within our own AS. */
  readonly neighborAs: number;
  /** Learned over eBGP. */
  readonly external: boolean;
  /** ORIGINATOR_ID if present, else the peer's BGP identifier, as an unsigned 32-bit number. */
  readonly routerId: number;
  readonly clusterListLength: number;
  /** The peer's address in a form that sorts like the address (see addressRank). */
  readonly addressRank: string;
  /** RFC 7911 path identifier: the last tie-break between paths of one peer. */
  readonly pathId: number;
}

export const STEP_NAMES = [
  'only-path',
  'local-origin',
  'graceful-shutdown',
  'local-pref',
  'as-path-length',
  'origin',
  'med',
  'ebgp-over-ibgp',
  'router-id',
  'cluster-list-length',
  'peer-address',
  'path-id',
] as const;
export type StepName = (typeof STEP_NAMES)[number];

export interface Decision<T extends Candidate> {
  /** The ECMP set, best first; empty when there were no candidates. */
  readonly best: T[];
  /** The step that left the winner alone; 'only-path' for a single candidate. */
  readonly decidedBy: StepName;
}

interface Step {
  readonly name: StepName;
  /** Keeps the candidates this step prefers; never returns an empty list for a non-empty one. */
  keep<T extends Candidate>(cs: readonly T[]): T[];
}

/** A total order: negative when a is better. */
type Order = (a: Candidate, b: Candidate) => number;

function byOrder(name: StepName, order: Order): Step & { readonly order: Order } {
  return {
    name,
    order,
    keep<T extends Candidate>(cs: readonly T[]): T[] {
      let best = cs[0];
      for (let i = 1; i < cs.length; i++) if (order(cs[i], best) < 0) best = cs[i];
      return cs.filter((c) => order(c, best) === 0);
    },
  };
}

const lower = (a: number, b: number): number => a - b;

/** RFC 4271 9.1.2.2 (c): only paths from the same neighbouring AS compare their MED. */
const medStep: Step = {
  name: 'med',
  keep<T extends Candidate>(cs: readonly T[]): T[] {
    return cs.filter((c) => !cs.some((d) => d.neighborAs === c.neighborAs && d.med < c.med));
  },
};

const routerIdStep = byOrder('router-id', (a, b) => lower(a.routerId, b.routerId));
/** Steps after the ECMP cut: total orders, used to sort the multipath set. */
const TIE_BREAKS = [
  routerIdStep,
  // RFC 4456 section 9: shorter CLUSTER_LIST first.
  byOrder('cluster-list-length', (a, b) => lower(a.clusterListLength, b.clusterListLength)),
  byOrder('peer-address', (a, b) => (a.addressRank < b.addressRank ? -1 : a.addressRank > b.addressRank ? 1 : 0)),
  byOrder('path-id', (a, b) => lower(a.pathId, b.pathId)),
] as const;

/** Steps whose survivors are equal enough to share traffic (ECMP). */
const PREFERENCE: readonly Step[] = [
  byOrder('local-origin', (a, b) => Number(b.local) - Number(a.local)),
  // RFC 8326 section 4: a path with GRACEFUL_SHUTDOWN is treated as having the lowest LOCAL_PREF,
  // so below every path without it, whatever their LOCAL_PREF.
  byOrder('graceful-shutdown', (a, b) => Number(a.gracefulShutdown) - Number(b.gracefulShutdown)),
  byOrder('local-pref', (a, b) => b.localPref - a.localPref),
  byOrder('as-path-length', (a, b) => lower(a.asPathLength, b.asPathLength)),
  byOrder('origin', (a, b) => lower(a.origin, b.origin)),
  medStep,
  // RFC 4271 9.1.2.2 (d).
  byOrder('ebgp-over-ibgp', (a, b) => Number(b.external) - Number(a.external)),
];

/** Every step in order, for documentation and tests. */
export const STEPS: readonly StepName[] = [...PREFERENCE.map((s) => s.name), ...TIE_BREAKS.map((s) => s.name)];

function tieBreak(a: Candidate, b: Candidate): number {
  for (const s of TIE_BREAKS) {
    const d = s.order(a, b);
    if (d !== 0) return d;
  }
  return 0;
}

function firstDifference(a: Candidate, b: Candidate): StepName {
  for (const s of TIE_BREAKS) if (s.order(a, b) !== 0) return s.name;
  return 'path-id';
}

/**
 * Runs the decision process over `candidates` (any order: the answer does not depend on it).
 * `multipath` bounds the ECMP set (at least 1).
 */
export function decide<T extends Candidate>(candidates: readonly T[], multipath = 8): Decision<T> {
  if (candidates.length === 0) return { best: [], decidedBy: 'only-path' };
  if (candidates.length === 1) return { best: [candidates[0]], decidedBy: 'only-path' };
  let standing: T[] = candidates.slice();
  for (const step of PREFERENCE) {
    standing = step.keep(standing);
    if (standing.length === 1) return { best: standing, decidedBy: step.name };
  }
  standing.sort(tieBreak);
  const best = standing.slice(0, Math.max(1, multipath));
  return { best, decidedBy: firstDifference(standing[0], standing[1]) };
}

/**
 * Text that sorts like the address: IPv4 first (as ::ffff:a.b.c.d would), then IPv6, each as
 * fixed-width hex. Computed once per peer, never per prefix.
 */
export function addressRank(bytes: Uint8Array): string {
  const full = new Uint8Array(16);
  if (bytes.length === 4) {
    full[10] = 0xff;
    full[11] = 0xff;
    full.set(bytes, 12);
  } else {
    full.set(bytes);
  }
  return Buffer.from(full).toString('hex');
}
