/**
 * BfdEngine: every BFD session of the agent and the receive path of RFC 5881 (single hop,
 * asynchronous mode). `configure(peers)` is the whole desired set: new peers get a session (a
 * random non-zero local discriminator unique in the engine, RFC 5880 section 6.8.1, and a transmit
 * socket from `openTx`: source port 49152-65535, TTL 255, RFC 5881 section 4), removed ones are
 * stopped with AdminDown, changed timers are retuned in place (Poll Sequence, fsm.ts).
 * A removed session that was Up or Init goes on sending AdminDown for the Detection Time the peer
 * runs for us (RFC 5880 section 6.8.16), capped at ADMIN_DOWN_MAX_MS so a stop stays bounded, and
 * only then closes its socket: one lost packet must not look like a failure to the peer. Meanwhile
 * its discriminator still takes the peer's packets (unseen, uncounted); a new session to the same
 * peer can start at once.
 * `receive` takes every datagram that reached port 3784 and discards, counting by BfdError code:
 * TTL / Hop Limit not 255 (RFC 5881 section 5), what decodeControl refuses, a Your Discriminator
 * naming no session, a packet from an address we have no session with or from another address than
 * the session's peer (RFC 5880 section 6.8.6). A bad packet never throws and never touches another
 * session. Not here: sockets (worker.ts opens them), BGP (the main thread reacts to changes).
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
}

export interface TxSocket {
  send(packet: Buffer): void;
  close(): void;
}

export interface BfdEngineDeps {
  readonly clock: Clock;
  readonly random?: () => number;
  openTx(peer: BfdPeerConfig): TxSocket;
  onChange(change: BfdChange): void;
}

export interface BfdEngineStatus {
  readonly sessions: readonly BfdSessionStatus[];
  /** Discarded datagrams by reason (BfdError codes). */
  readonly drops: Readonly<Record<string, number>>;
}

export interface Received {
  readonly data: Uint8Array;
  readonly address: string;
  readonly ttl: number;
}

/** RFC 5881 section 5: single-hop packets are sent with TTL 255 and must arrive with 255. */
export const REQUIRED_TTL = 255;

interface Entry {
  readonly config: BfdPeerConfig;
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

const timersOf = (p: BfdPeerConfig) => ({ desiredMinTx: p.minTxMs * 1000, requiredMinRx: p.minRxMs * 1000, detectMult: p.multiplier });
const sameTimers = (a: BfdPeerConfig, b: BfdPeerConfig) => a.minRxMs === b.minRxMs && a.minTxMs === b.minTxMs && a.multiplier === b.multiplier;

export class BfdEngine {
  private readonly byKey = new Map<string, Entry>();
  private readonly byDiscr = new Map<number, Entry>();
  private readonly byAddress = new Map<string, Entry>();
  private readonly drops: Partial<Record<BfdErrorCode, number>> = {};
  private readonly random: () => number;
  /** Removed sessions still sending AdminDown, and who waits for the last of them (close()). */
  private readonly retiring = new Set<Entry>();
  private drained: (() => void)[] = [];

  constructor(private readonly deps: BfdEngineDeps) {
    this.random = deps.random ?? Math.random;
  }

  configure(peers: readonly BfdPeerConfig[]): void {
    const wanted = new Map(peers.map((p) => [p.key, { ...p, peer: canonicalAddress(p.peer) }]));
    for (const [key, e] of this.byKey) {
      const next = wanted.get(key);
      if (next && next.peer === e.config.peer && next.local === e.config.local && next.family === e.config.family) continue;
      this.remove(e);
    }
    for (const p of wanted.values()) {
      const e = this.byKey.get(p.key);
      if (!e) this.add(p);
      else if (!sameTimers(e.config, p)) {
        this.byKey.set(p.key, { ...e, config: p });
        this.index(this.byKey.get(p.key)!);
        e.session.retune(timersOf(p));
      }
    }
  }

  receive(m: Received): void {
    const code = this.accept(m);
    if (code !== undefined) this.drops[code] = (this.drops[code] ?? 0) + 1;
  }

  status(): BfdEngineStatus {
    return { sessions: [...this.byKey.values()].map((e) => e.session.status()), drops: { ...this.drops } };
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
    if (m.ttl !== REQUIRED_TTL) return 'TTL';
    let packet;
    try {
      packet = decodeControl(m.data);
    } catch (err) {
      return err instanceof BfdError ? err.code : 'SHORT';
    }
    const from = canonicalAddress(m.address);
    let e: Entry | undefined;
    if (packet.yourDiscr !== 0) {
      e = this.byDiscr.get(packet.yourDiscr);
      if (!e) return 'UNKNOWN_DISCRIMINATOR';
      if (e.config.peer !== from) return 'ADDRESS_MISMATCH';
    } else {
      // RFC 5880 section 6.8.6: select the session by the source address (single hop: RFC 5881 s3).
      e = this.byAddress.get(from);
      if (!e) return 'UNKNOWN_PEER';
    }
    return e.session.receive(packet);
  }

  private add(p: BfdPeerConfig): void {
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
    this.byAddress.set(e.config.peer, e);
  }

  private remove(e: Entry): void {
    const ms = Math.min(e.session.stop(), ADMIN_DOWN_MAX_MS);
    this.byKey.delete(e.config.key);
    if (this.byAddress.get(e.config.peer) === e) this.byAddress.delete(e.config.peer);
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
