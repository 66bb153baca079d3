/**
 * Cross-checks of policy.import and policy.export (SPEC.md "Routing policy"), after each rule's
 * keys passed their formats: ge/le only with a prefix and within it, exact not with them, a pool
 * that is one of `pools`, communities "AS:value" (RFC 1997) and large communities
 * "global:local1:local2" (RFC 8092), `set` only with action accept. Every problem names its key.
 * Not here: what a rule does (agent/rib/policy-rules.ts).
 */

import { parseCommunity, parseLargeCommunity } from '../agent/bgp/community-text.js';
import { parseCidr } from './addresses.js';
import { addProblem, hasProblemAt, type Problem } from './errors.js';
import type { RawConfig } from './raw.js';

const COMMUNITY = 'must be a community "AS:value", each 0..65535, like "64512:10"';
const LARGE = 'must be a large community "global:local1:local2", each 0..4294967295, like "64512:1:2"';

export function checkPolicy(raw: RawConfig, problems: Problem[]): void {
  const ok = (path: string): boolean => !hasProblemAt(problems, path);
  const add = (path: string, message: string): void => addProblem(problems, path, message);
  if (!ok('policy')) return;
  const pools = new Set<string>();
  if (ok('pools')) {
    for (const pool of raw.pools) {
      const c = typeof pool?.cidr === 'string' ? parseCidr(pool.cidr) : undefined;
      if (c) pools.add(`${c.network.key}/${c.len}`);
    }
  }
  for (const list of ['import', 'export'] as const) {
    raw.policy[list].forEach((rule, i) => {
      const base = `policy.${list}[${i}]`;
      if (!ok(base)) return;
      const m = rule.match;
      const p = m.prefix === '' ? undefined : parseCidr(m.prefix);
      const max = p?.family === 'ipv6' ? 128 : 32;
      for (const key of ['ge', 'le'] as const) {
        const v = m[key];
        if (v === null) continue;
        if (p === undefined) add(`${base}.match.${key}`, 'needs match.prefix');
        else if (v < p.len || v > max) add(`${base}.match.${key}`, `must be between the prefix length ${p.len} and ${max}`);
      }
      if (m.ge !== null && m.le !== null && m.ge > m.le) add(`${base}.match.le`, `must not be below match.ge (${m.ge})`);
      if (m.exact && (m.ge !== null || m.le !== null)) add(`${base}.match.exact`, 'must not be set together with ge or le');
      if (m.exact && p === undefined) add(`${base}.match.exact`, 'needs match.prefix');
      if (m.pool !== '' && ok('pools')) {
        const c = parseCidr(m.pool);
        if (c && !pools.has(`${c.network.key}/${c.len}`)) add(`${base}.match.pool`, `${m.pool} is not the cidr of any entry of pools`);
      }
      if (m.community !== '' && parseCommunity(m.community) === undefined) add(`${base}.match.community`, COMMUNITY);
      if (m.largeCommunity !== '' && parseLargeCommunity(m.largeCommunity) === undefined) add(`${base}.match.largeCommunity`, LARGE);
      rule.set.communities.forEach((c, j) => {
        if (parseCommunity(c) === undefined) add(`${base}.set.communities[${j}]`, COMMUNITY);
      });
      rule.set.largeCommunities.forEach((c, j) => {
        if (parseLargeCommunity(c) === undefined) add(`${base}.set.largeCommunities[${j}]`, LARGE);
      });
      const s = rule.set;
      const sets = s.localPref !== null || s.med !== null || s.communities.length > 0 || s.largeCommunities.length > 0 || s.prepend > 0;
      if (rule.action === 'reject' && sets) add(`${base}.set`, 'has no effect with action reject: set applies on accept');
    });
  }
}
