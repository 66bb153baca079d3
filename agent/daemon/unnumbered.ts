/**
 * The daemon's side of BGP unnumbered: for every interface peer, the link's ND socket
 * (peers/nd-socket.ts), the neighbour table (peers/link-neighbours.ts), and the link's state read
 * from sysfs (`/sys/class/net/IF/operstate` and `carrier`, in the agent's own network namespace)
 * whenever the FIB hears a netlink link event (settled 100 ms), and every `pollMs` besides: a link that goes down forgets its neighbour at once, so the session ends and its
 * routes leave the ECMP sets in place (the FIB has already dropped the link's next hops, seeing the
 * link go down); when it comes back our RA goes out again, the neighbour is heard anew and is sent
 * our RA at once. A device that is missing or has no link-local address yet is retried at the
 * same pace. Every change of the table calls `changed()` synchronously, which re-derives the
 * PeerSpecs (daemon.ts). Not here: which neighbour wins (link-neighbours.ts), the sessions.
 */
import { existsSync, readFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { every, type Clock } from '../contracts/clock.js';
import type { Logger } from '../contracts/log.js';
import { LinkNeighbours, type HeardFrom, isLinkLocal } from '../peers/link-neighbours.js';
import { ND, type NdLink, openNdLink } from '../peers/nd-socket.js';

export interface UnnumberedDeps {
  readonly log: Logger;
  readonly clock: Clock;
  readonly established: (ifname: string) => boolean;
  /** The table changed: re-derive the peers now. */
  readonly changed: () => void;
  readonly pollMs?: number;
  readonly advertiseMs?: number;
}

/** Our link-local address and MAC on `ifname`, from the kernel through libuv. */
export function linkAddresses(ifname: string): { linkLocal: string; mac: string } {
  const list = networkInterfaces()[ifname] ?? [];
  const ll = list.find((a) => a.family === 'IPv6' && isLinkLocal(a.address));
  return { linkLocal: ll?.address.replace(/%.*$/, '') ?? '', mac: ll?.mac ?? list[0]?.mac ?? '' };
}

/** Whether the link is up with a carrier (operstate up, or unknown as on some virtual devices). */
export function linkUp(ifname: string): boolean {
  try {
    const state = readFileSync(`/sys/class/net/${ifname}/operstate`, 'utf8').trim();
    const carrier = readFileSync(`/sys/class/net/${ifname}/carrier`, 'utf8').trim();
    return carrier === '1' && (state === 'up' || state === 'unknown');
  } catch {
    return false; // missing, or down (carrier is unreadable on a device that is down)
  }
}

const HEARD: Readonly<Record<number, HeardFrom>> = { [ND.RA]: 'router advertisement', [ND.RS]: 'neighbour discovery', [ND.NS]: 'neighbour discovery', [ND.NA]: 'neighbour discovery' };

export class Unnumbered {
  readonly table: LinkNeighbours;
  private readonly links = new Map<string, NdLink | null>();
  private readonly up = new Map<string, boolean>();
  /** The last open failure per interface, logged once until it changes. */
  private readonly failed = new Map<string, string>();
  private stopPoll: (() => void) | undefined;

  constructor(private readonly deps: UnnumberedDeps) {
    this.table = new LinkNeighbours({
      localLinkLocal: (ifname) => linkAddresses(ifname).linkLocal,
      established: deps.established,
      now: () => deps.clock.now(),
    });
  }

  /** The interface peers now configured (a reload may change them). */
  configure(ifnames: readonly string[]): void {
    const want = new Set(ifnames);
    for (const [ifname, link] of this.links) {
      if (want.has(ifname)) continue;
      link?.close();
      this.links.delete(ifname);
      this.up.delete(ifname);
      this.table.forget(ifname);
    }
    for (const ifname of want) if (!this.links.has(ifname)) this.links.set(ifname, null);
    this.poll();
    if (this.links.size > 0 && this.stopPoll === undefined) this.stopPoll = every(this.deps.clock, this.deps.pollMs ?? 500, () => this.poll());
    if (this.links.size === 0) this.close();
  }

  /** A connection to our port from `address` (with its zone): true when it is an interface peer's neighbour now. */
  heardConnection(address: string): boolean {
    const zone = address.indexOf('%');
    if (zone < 0 || !isLinkLocal(address)) return false;
    const ifname = address.slice(zone + 1);
    if (!this.links.has(ifname)) return false;
    this.heard(ifname, address, 'connection');
    return this.table.entry(ifname)?.peer === address.slice(0, zone).toLowerCase();
  }

  close(): void {
    this.stopPoll?.();
    this.stopPoll = undefined;
    for (const link of this.links.values()) link?.close();
    for (const ifname of this.links.keys()) this.links.set(ifname, null);
  }

  private heard(ifname: string, address: string, from: HeardFrom): void {
    if (this.table.heard(ifname, address, from)) {
      const e = this.table.entry(ifname);
      this.deps.log.info(`unnumbered peer ${ifname}: neighbour ${e?.peer} (${from}), our address ${e?.local}`, { peer: ifname });
      // A neighbour new to us may not know us either (FRR accepts a connection only from a
      // neighbour it heard an RA from, and an RA sent while its side of the link was still coming
      // up is lost): answer now rather than at the next interval.
      this.links.get(ifname)?.advertise();
      this.deps.changed();
    }
  }

  /** Reads every interface peer's link now (the poll's timer, and the FIB's link events). */
  poll(): void {
    for (const [ifname, link] of this.links) {
      const up = linkUp(ifname) && linkAddresses(ifname).linkLocal !== '';
      const was = this.up.get(ifname);
      this.up.set(ifname, up);
      if (!up) {
        if (was === true) this.deps.log.warn(`unnumbered peer ${ifname}: link down`, { peer: ifname });
        if (link !== null && !existsSync(`/sys/class/net/${ifname}`)) {
          link.close(); // the device is gone: a new one gets a new socket
          this.links.set(ifname, null);
        }
        if (this.table.forget(ifname)) this.deps.changed();
        continue;
      }
      if (link === null) this.open(ifname);
      else if (was === false) link.advertise();
    }
  }

  private open(ifname: string): void {
    try {
      const link = openNdLink({
        ifname,
        mac: () => linkAddresses(ifname).mac,
        intervalMs: this.deps.advertiseMs ?? 10_000,
        onHeard: (source, type) => this.heard(ifname, source, HEARD[type] ?? 'neighbour discovery'),
        onError: (words) => this.deps.log.warn(words, { peer: ifname }),
      });
      this.links.set(ifname, link);
      this.deps.log.info(`unnumbered peer ${ifname}: sending router advertisements, listening for the neighbour`, { peer: ifname });
      this.failed.delete(ifname);
    } catch (err) {
      const words = (err as Error).message;
      if (this.failed.get(ifname) !== words) this.deps.log.warn(`unnumbered peer ${ifname}: cannot open its ICMPv6 socket (${words}); retrying`, { peer: ifname });
      this.failed.set(ifname, words);
    }
  }
}
