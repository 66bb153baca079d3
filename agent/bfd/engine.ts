/**
 * BfdEngine: every BFD session of the agent and the receive path of RFC 5881 (single hop) and RFC
 * 5883 (multihop), asynchronous mode. `configure(peers)` is the whole desired set: new peers get a
 * session (a random non-zero local discriminator unique in the engine, RFC 5880 section 6.8.1, and
 * a transmit socket from `openTx`: source port 49152-65535, TTL 255, RFC 5881 section 4 and RFC
 * 5883 section 5), removed ones are stopped with AdminDown, changed timers are retuned in place
 * (Poll Sequence, fsm.ts); a session whose path changes (multihop, interface, addresses) is
 * replaced.
 * A removed session that was Up or Init goes on sending AdminDown for the Detection Time the peer
 * runs for us (RFC 5880 section 6.8.16), capped at ADMIN_DOWN_MAX_MS so a stop stays bounded, and
 * only then closes its socket: one lost packet must not look like a failure to the peer. Meanwhile
 * its discriminator still takes the peer's packets (unseen, uncounted); a new session to the same
 * peer can start at once.
 * Paths (`pathKey`): a single-hop session is keyed by (interface, peer address) when it is bound
 * to an interface (a link-local peer: RFC 5881 section 3), else by the peer address; a multihop
 * one by the peer address, and its local address when configured (RFC 5883 section 3: the address
 * pair and the discriminators). `receive` takes every datagram that reached UDP 3784 or 4784
 * (`multihop`) and discards, counting by BfdError code: on 3784 a TTL / Hop Limit not 255 (RFC
 * 5881 section 5); on 4784 one below the session's `minTtl` when configured (RFC 5883 section 5
 * leaves the check to configuration: BIRD 2 sends multihop BFD with the system's default TTL, 64);
 * what decodeControl refuses; a Your Discriminator naming no session; a packet from another
 * address, interface or port than the session's (RFC 5880 section 6.8.6). A bad packet never
 * throws and never touches another session.
 * Not here: sockets (worker.ts opens them), BGP (the main thread reacts to changes), which peers
 * are multihop (coupling.ts).
 */

import { BfdError, type BfdErrorCode } from './errors.js';
import { decodeControl } from './packet.js';
import { ADMIN_DOWN_MAX_MS, BfdSession, type BfdChange, type BfdSessionStatus } from './session.js';
import type { Clock } from '../contracts/clock.js';

/** One BFD session as the main thread asks for it (from a PeerSpec with bfd enabled). */
export interface BfdPeerConfig {
  readonly key: string;
  readonly peer: string;
  /** Our source address; '' lets the kernel choose. */
  readonly local: string;
  readonly family: 'ipv4' | 'ipv6';
  readonly minRxMs: number;
  readonly minTxMs: number;
  readonly multiplier: number;
  /** RFC 5883 multihop (UDP 4784) instead of RFC 5881 single hop (UDP 3784); absent: false. */
  readonly multihop?: boolean;
  /**
   * Single hop bound to this interface (a link-local peer; RFC 5881 section 3 keys the session by
   * interface): sent with that scope, and only packets that arrived on it are taken. Absent or '':
   * not bound. A scoped `peer` (`fe80::1%eth0`) says the same.
   */
  readonly interface?: string;
  /** Multihop only: the lowest received TTL / Hop Limit accepted (RFC 5883 section 5); 0 or absent: no check. */
  readonly minTtl?: number;
}

/** A BfdPeerConfig with every optional field filled in and the peer address canonical. */
export interface BfdPath extends BfdPeerConfig {
  readonly multihop: boolean;
  readonly interface: string;
  readonly minTtl: number;
}

export interface TxSocket {
  send(packet: Buffer): void;
  close(): void;
}

export interface BfdEngineDeps {
  readonly clock: Clock;
  readonly random?: () => number;
  openTx(peer: BfdPath): TxSocket;
  onChange(change: BfdChange): void;
}

/** A session's status with its path. */
export interface BfdPathStatus extends BfdSessionStatus {
  readonly multihop: boolean;
  /** '' when not bound to an interface. */
  readonly interface: string;
}

export interface BfdEngineStatus {
  readonly sessions: readonly BfdPathStatus[];
  /** Discarded datagrams by reason (BfdError codes). */
  readonly drops: Readonly<Record<string, number>>;
}

export interface Received {
  readonly data: Uint8Array;
  readonly address: string;
  readonly ttl: number;
  /** It reached the multihop port (UDP 4784, RFC 5883 section 5); absent: the single-hop port. */
  readonly multihop?: boolean;
  /** The interface it arrived on (IP_PKTINFO); absent or '': unknown. */
  readonly ifname?: string;
  /** The address it was sent to; absent or '': unknown. */
  readonly local?: string;
}

/** RFC 5881 section 5: single-hop packets are sent with TTL 255 and must arrive with 255. */
export const REQUIRED_TTL = 255;

interface Entry {
  readonly config: BfdPath;
  readonly session: BfdSession;
  readonly tx: TxSocket;
}

/** Text forms of one address compare equal: IPv6 in RFC 5952 form, v4-mapped as plain IPv4. */
export function canonicalAddress(a: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(a);
  if (mapped) return mapped[1];
  if (!a.includes(':')) return a;
  try {
    return new URL(`http://[${a}]/`).hostname.slice(1, -1);
  } catch {
    return a.toLowerCase();
  }
}

/** The fields every optional one filled in, the addresses canonical, a scope moved to `interface`. */
export function pathOf(p: BfdPeerConfig): BfdPath {
  const zone = p.peer.indexOf('%');
  const peer = canonicalAddress(zone < 0 ? p.peer : p.peer.slice(0, zone));
  const multihop = p.multihop ?? false;
  const iface = multihop ? '' : p.interface || (zone < 0 ? '' : p.peer.slice(zone + 1));
  return { ...p, peer, local: p.local === '' ? '' : canonicalAddress(p.local), multihop, interface: iface, minTtl: multihop ? p.minTtl ?? 0 : REQUIRED_TTL };
}

/** What a session is found by when Your Discriminator is zero (RFC 5880 section 6.8.6). */
export function pathKey(multihop: boolean, peer: string, iface: string): string {
  return multihop ? `multihop ${peer}` : `single-hop ${iface} ${peer}`;
}

const keyOf = (p: BfdPath) => pathKey(p.multihop, p.peer, p.interface);
const samePath = (a: BfdPath, b: BfdPath) => a.peer === b.peer && a.local === b.local && a.family === b.family && a.multihop === b.multihop && a.interface === b.interface;

const timersOf = (p: BfdPeerConfig) => ({ desiredMinTx: p.minTxMs * 1000, requiredMinRx: p.minRxMs * 1000, detectMult: p.multiplier });
const sameTimers = (a: BfdPath, b: BfdPath) => a.minRxMs === b.minRxMs && a.minTxMs === b.minTxMs && a.multiplier === b.multiplier && a.minTtl === b.minTtl;

export class BfdEngine {
  private readonly byKey = new Map<string, Entry>();
  private readonly byDiscr = new Map<number, Entry>();
  private readonly byPath = new Map<string, Entry>();
  private readonly drops: Partial<Record<BfdErrorCode, number>> = {};
  private readonly random: () => number;
  /** Removed sessions still sending AdminDown, and who waits for the last of them (close()). */
  private readonly retiring = new Set<Entry>();
  private drained: (() => void)[] = [];

  constructor(private readonly deps: BfdEngineDeps) {
    this.random = deps.random ?? Math.random;
  }

  configure(peers: readonly BfdPeerConfig[]): void {
    const wanted = new Map(peers.map((p) => [p.key, pathOf(p)]));
    for (const [key, e] of this.byKey) {
      const next = wanted.get(key);
      if (next && samePath(next, e.config)) continue;
      this.remove(e);
    }
    for (const p of wanted.values()) {
      const e = this.byKey.get(p.key);
      if (!e) this.add(p);
      else if (!sameTimers(e.config, p)) {
        // Every index gets the new entry: the receive path reads minTtl from it.
        const next: Entry = { ...e, config: p };
        this.byKey.set(p.key, next);
        this.byDiscr.set(e.session.localDiscr, next);
        this.index(next);
        if (!sameTimers({ ...e.config, minTtl: p.minTtl }, p)) e.session.retune(timersOf(p));
      }
    }
  }

  receive(m: Received): void {
    const code = this.accept(m);
    if (code !== undefined) this.drops[code] = (this.drops[code] ?? 0) + 1;
  }

  status(): BfdEngineStatus {
    return {
      sessions: [...this.byKey.values()].map((e) => ({ ...e.session.status(), multihop: e.config.multihop, interface: e.config.interface })),
      drops: { ...this.drops },
    };
  }

  /**
   * Every session to AdminDown (the peer must not take it as a failure: RFC 5882 section 3.2);
   * resolves once the last one stopped sending it (at most ADMIN_DOWN_MAX_MS).
   */
  close(): Promise<void> {
    for (const e of [...this.byKey.values()]) this.remove(e);
    if (this.retiring.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.drained.push(resolve));
  }

  private accept(m: Received): BfdErrorCode | undefined {
    const multihop = m.multihop ?? false;
    // RFC 5881 section 5: single hop is GTSM, checked before anything else is read.
    if (!multihop && m.ttl !== REQUIRED_TTL) return 'TTL';
    let packet;
    try {
      packet = decodeControl(m.data);
    } catch (err) {
      return err instanceof BfdError ? err.code : 'SHORT';
    }
    const from = canonicalAddress(m.address);
    const ifname = m.ifname ?? '';
    let e: Entry | undefined;
    if (packet.yourDiscr !== 0) {
      e = this.byDiscr.get(packet.yourDiscr);
      if (!e) return 'UNKNOWN_DISCRIMINATOR';
      if (e.config.peer !== from) return 'ADDRESS_MISMATCH';
      if (e.config.multihop !== multihop) return 'HOP_MISMATCH';
      if (e.config.interface !== '' && ifname !== '' && ifname !== e.config.interface) return 'INTERFACE_MISMATCH';
    } else {
      // RFC 5880 section 6.8.6: select the session by its path (RFC 5881 s3, RFC 5883 s3).
      e = multihop ? this.byPath.get(pathKey(true, from, '')) : this.byPath.get(pathKey(false, from, ifname)) ?? this.byPath.get(pathKey(false, from, ''));
      if (!e) return 'UNKNOWN_PEER';
    }
    if (multihop) {
      const local = m.local ? canonicalAddress(m.local) : '';
      if (e.config.local !== '' && local !== '' && local !== e.config.local) return 'ADDRESS_MISMATCH';
      // RFC 5883 section 5: a TTL check only where one is configured.
      if (e.config.minTtl > 0 && m.ttl < e.config.minTtl) return 'TTL';
    }
    return e.session.receive(packet);
  }

  private add(p: BfdPath): void {
    let tx: TxSocket;
    try {
      tx = this.deps.openTx(p);
    } catch {
      this.drops.SOCKET = (this.drops.SOCKET ?? 0) + 1;
      return;
    }
    const discr = this.newDiscriminator();
    const session = new BfdSession(p.key, p.peer, discr, timersOf(p), {
      clock: this.deps.clock,
      random: this.random,
      send: (packet) => tx.send(packet),
      onChange: (c) => this.deps.onChange(c),
    });
    const e: Entry = { config: p, session, tx };
    this.byKey.set(p.key, e);
    this.byDiscr.set(discr, e);
    this.index(e);
    session.start();
  }

  private index(e: Entry): void {
    this.byPath.set(keyOf(e.config), e);
  }

  private remove(e: Entry): void {
    const ms = Math.min(e.session.stop(), ADMIN_DOWN_MAX_MS);
    this.byKey.delete(e.config.key);
    if (this.byPath.get(keyOf(e.config)) === e) this.byPath.delete(keyOf(e.config));
    if (ms <= 0) return this.retire(e);
    this.retiring.add(e);
    this.deps.clock.setTimeout(() => this.retire(e), ms);
  }

  private retire(e: Entry): void {
    e.session.dispose();
    e.tx.close();
    if (this.byDiscr.get(e.session.localDiscr) === e) this.byDiscr.delete(e.session.localDiscr);
    this.retiring.delete(e);
    if (this.retiring.size > 0) return;
    const waiting = this.drained;
    this.drained = [];
    for (const resolve of waiting) resolve();
  }

  private newDiscriminator(): number {
    for (;;) {
      const d = Math.floor(this.random() * 0xffffffff) + 1;
      if (d <= 0xffffffff && !this.byDiscr.has(d)) return d;
    }
  }
}
