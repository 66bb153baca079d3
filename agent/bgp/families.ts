/**
 * The address families the agent speaks, as one table: IPv4 unicast and IPv6 unicast (RFC 4760),
 * by the name the rest of the agent uses ('ipv4', 'ipv6'), with their AFI and SAFI on the wire.
 * Every translation between a name and an <AFI, SAFI> goes through here. Not here: other SAFIs
 * (the agent negotiates none), prefix encoding (prefix.ts).
 */

import { AFI, SAFI } from './constants.js';

export type FamilyName = 'ipv4' | 'ipv6';

export const FAMILIES: readonly FamilyName[] = ['ipv4', 'ipv6'];

/** AFI of each family (SAFI is unicast for both). */
export const AFI_OF: Readonly<Record<FamilyName, number>> = { ipv4: AFI.IPV4, ipv6: AFI.IPV6 };

/** The family of an <AFI, SAFI>, or undefined for one the agent does not speak. */
export function familyName(afi: number, safi: number = SAFI.UNICAST): FamilyName | undefined {
  if (safi !== SAFI.UNICAST) return undefined;
  return afi === AFI.IPV4 ? 'ipv4' : afi === AFI.IPV6 ? 'ipv6' : undefined;
}

/** The family of an AFI the codec already accepted (1 or 2): prefixes, End-of-RIB markers. */
export function familyOfAfi(afi: number): FamilyName {
  return afi === AFI.IPV4 ? 'ipv4' : 'ipv6';
}
