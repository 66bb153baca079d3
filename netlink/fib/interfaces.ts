/**
 * The interfaces and addresses the FIB follows (from link/address dumps and notifications), and
 * what it derives from them: the tunnel device's index, and the device a peer is reached on (the
 * interface holding a subnet that contains the peer's address; for an IPv6 link-local peer, its
 * %zone, or the only interface with a link-local address). Pure functions over plain maps.
 * Not here: creating devices (fib.ts asks the RouteSocket).
 */
import { parsePrefix } from '../../agent/bgp/prefix.js';
import type { AddressMessage } from '../rtnetlink/addr.js';
import type { LinkMessage } from '../rtnetlink/link.js';
import { addressWithin } from './desired.js';
import { isLinkLocal6 } from './kernel-route.js';
import type { Device } from './types.js';

export interface Interfaces {
  readonly links: Map<number, LinkMessage>;
  /** `${index} ${address}/${prefixLen}` -> address. */
  readonly addresses: Map<string, AddressMessage>;
}

export const emptyInterfaces = (): Interfaces => ({ links: new Map(), addresses: new Map() });

export function applyLink(ifs: Interfaces, link: LinkMessage, isNew: boolean): void {
  if (isNew) {
    ifs.links.set(link.index, link);
    return;
  }
  ifs.links.delete(link.index);
  for (const [key, a] of ifs.addresses) if (a.index === link.index) ifs.addresses.delete(key);
}

export function applyAddress(ifs: Interfaces, a: AddressMessage, isNew: boolean): void {
  const key = `${a.index} ${a.address}/${a.prefixLen}`;
  if (isNew) ifs.addresses.set(key, a);
  else ifs.addresses.delete(key);
}

export function linkByName(ifs: Interfaces, name: string): LinkMessage | undefined {
  for (const link of ifs.links.values()) if (link.name === name) return link;
  return undefined;
}

const device = (link: LinkMessage | undefined): Device | null =>
  (link === undefined ? null : { name: link.name, ifindex: link.index });

export function deviceFor(ifs: Interfaces, peerAddress: string): Device | null {
  const percent = peerAddress.indexOf('%');
  if (percent >= 0) {
    const zone = peerAddress.slice(percent + 1);
    return device(/^\d+$/.test(zone) ? ifs.links.get(Number(zone)) : linkByName(ifs, zone));
  }
  if (peerAddress === '') return null;
  const v6 = peerAddress.includes(':');
  if (v6 && isLinkLocal6(peerAddress)) {
    const holders = new Set<number>();
    for (const a of ifs.addresses.values()) {
      if (a.family === 6 && isLinkLocal6(a.address) && ifs.links.get(a.index)?.name !== 'lo') holders.add(a.index);
    }
    return holders.size === 1 ? device(ifs.links.get([...holders][0])) : null;
  }
  let best: AddressMessage | undefined;
  for (const a of ifs.addresses.values()) {
    if ((a.family === 6) !== v6 || a.prefixLen === (v6 ? 128 : 32)) continue;
    if (best !== undefined && best.prefixLen >= a.prefixLen) continue;
    if (addressWithin(peerAddress, parsePrefix(`${a.address}/${a.prefixLen}`))) best = a;
  }
  return best === undefined ? null : device(ifs.links.get(best.index));
}
