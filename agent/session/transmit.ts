/**
 * The outbound side of an Established session: the RIB's stream for this peer (OutboundItem,
 * agent/rib/types.ts: UPDATEs packed by agent/bgp/pack.ts, RFC 4271 section 9.2; End-of-RIB, RFC
 * 4724 section 2; BoRR/EoRR, RFC 7313 section 4) goes out in exactly the order it was pushed, encoded
 * a slice at a time: at most a few milliseconds of encoding per event loop turn, and never more than
 * `highWater` bytes waiting in the socket, so a full-table dump cannot delay a KEEPALIVE (written
 * straight to the socket by the session) by more than that. Markers share the one queue with the
 * UPDATE slices, so a marker pushed after UPDATEs is written after the last of them however the
 * queue is sliced, paused or drained (an EoRR ahead of its routes makes a peer drop them).
 * A shared update (an update group's, contracts SharedUpdate) is packed once for all members
 * (shared-pack.ts) and written a block at a time, without the parts not meant for this peer. The
 * socket is corked for each turn: many UPDATEs leave in one write.
 * Every attach and clear starts a new generation: the 'drain' listener and the pending setImmediate
 * of an earlier connection are disarmed, so a connection that died over the high-water mark (it
 * never drains) cannot hold back the next session's stream.
 * Not here: what to advertise, when to send a marker, counting advertised prefixes (the RIB's job).
 */

import type { CodecContext } from '../bgp/context.js';
import { MessageType, SAFI } from '../bgp/constants.js';
import { packUpdates, type PackInput } from '../bgp/pack.js';
import { RefreshSubtype, encodeRouteRefresh } from '../bgp/route-refresh.js';
import { encodeUpdate, endOfRib } from '../bgp/update.js';
import type { Connection } from './connection.js';
import { systemClock, type Clock } from '../contracts/clock.js';
import { AFI_OF } from '../bgp/families.js';
import type { OutboundItem, SharedUpdate } from '../contracts/engines.js';
import { packingOf, skippedBy, sliceOutbound, type SharedPacking } from './shared-pack.js';

export { SLICE_PREFIXES, sliceOutbound } from './shared-pack.js';

/**
 * Least milliseconds between two writes of new outbound work to one peer when the node has
 * `peers` sessions: none below 64; then 0.1 ms a peer, at most 200 ms. A reflector with two
 * thousand clients otherwise writes every client once per event-loop turn, a syscall each, and
 * the turns grow long enough to delay the OPENs of the sessions still coming up; spaced, each
 * write carries what several turns produced. The first write after a quiet spell is immediate.
 */
export function writeSpacing(peers: number): number {
  return peers < 64 ? 0 : Math.min(200, peers * 0.1);
}

export type Marker = Exclude<OutboundItem, { kind: 'update' } | SharedUpdate>;
/** A queue entry: a slice to pack for this peer alone, a marker, or a shared update and the next block to write. */
export type Outbound =
  | { readonly kind: 'pack'; readonly input: PackInput }
  | { readonly kind: 'marker'; readonly marker: Marker }
  | { readonly kind: 'shared'; readonly item: SharedUpdate; packing: SharedPacking | undefined; next: number };

const REFRESH_SUBTYPE = { 'begin-refresh': RefreshSubtype.BEGIN, 'end-refresh': RefreshSubtype.END, 'request-refresh': RefreshSubtype.REQUEST } as const;

/** The bytes of a marker: an End-of-RIB UPDATE, or a ROUTE-REFRESH: a request (RFC 2918), BoRR or EoRR. */
export function encodeMarker(m: Marker, ctx: CodecContext): Uint8Array {
  const afi = AFI_OF[m.family];
  if (m.kind === 'end-of-rib') return encodeUpdate(endOfRib(afi), ctx);
  return encodeRouteRefresh({ afi, safi: SAFI.UNICAST, subtype: REFRESH_SUBTYPE[m.kind] });
}

export interface TransmitHooks {
  /** Called for every message written, with its type code (for the counters); `count` of them at once. */
  sent(type: number, count?: number): void;
  /** The peer's key: the parts of a shared update that are not for it are skipped. */
  readonly peer?: string;
  /** An encoding failure (a bug or an unencodable route): logged by the session, the slice is dropped. */
  failed(err: unknown): void;
}

export class Transmitter {
  private queue: Outbound[] = [];
  private head = 0;
  private conn: Connection | undefined;
  private ctx: CodecContext | undefined;
  private scheduled = false;
  private waitingDrain = false;
  /** Bumped by clear(): callbacks armed for an older connection do nothing. */
  private generation = 0;
  private drainOff: (() => void) | undefined;
  /** When the last flush began (performance.now()), and the timer of a spaced one. */
  private lastFlush = -Infinity;
  private timer: unknown = undefined;

  constructor(
    private readonly hooks: TransmitHooks,
    private readonly budgetMs = 5,
    private readonly highWater = 1 << 20,
    /** Least time between two flushes that start new work (writeSpacing); 0: every turn. */
    private readonly spacing: () => number = () => 0,
    private readonly clock: Clock = systemClock,
  ) {}

  /** Starts sending on an Established connection with the negotiated encode context. */
  attach(conn: Connection, ctx: CodecContext): void {
    this.clear();
    this.conn = conn;
    this.ctx = ctx;
  }

  /** Forgets everything queued and every wait of the old connection (the session went down). */
  clear(): void {
    this.generation++;
    this.drainOff?.();
    this.drainOff = undefined;
    this.waitingDrain = false;
    this.scheduled = false;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.queue = [];
    this.head = 0;
    this.conn = undefined;
    this.ctx = undefined;
  }

  get attached(): boolean {
    return this.conn !== undefined;
  }

  get backlog(): number {
    return this.queue.length - this.head;
  }

  /** Queues one item of the RIB's stream behind everything queued before it. */
  push(item: OutboundItem): void {
    if (item.kind === 'update') for (const slice of sliceOutbound(item.update)) this.queue.push({ kind: 'pack', input: slice });
    else if (item.kind === 'shared') this.queue.push({ kind: 'shared', item, packing: undefined, next: 0 });
    else this.queue.push({ kind: 'marker', marker: item });
    this.schedule();
  }

  /**
   * A flush on the next turn; new work (`spaced`) waits until `spacing` after the last flush began,
   * so that what arrives meanwhile leaves in the same write. A flush cut short by its budget, or
   * resumed by a drain, carries on at the next turn.
   */
  private schedule(spaced = true): void {
    if (this.scheduled || this.waitingDrain || !this.conn) return;
    this.scheduled = true;
    const generation = this.generation;
    const run = (): void => {
      this.timer = undefined;
      if (generation !== this.generation) return;
      this.scheduled = false;
      this.flush();
    };
    const wait = spaced ? this.lastFlush + this.spacing() - performance.now() : 0;
    if (wait > 0) this.timer = this.clock.setTimeout(run, wait);
    else setImmediate(run);
  }

  /**
   * Writes what the budget allows. The socket is corked for the turn, so everything written in it
   * leaves in one writev (many UPDATEs per write, not one write per UPDATE).
   */
  private flush(): void {
    const conn = this.conn;
    const ctx = this.ctx;
    if (!conn || !ctx || conn.closed) return;
    const started = performance.now();
    const deadline = started + this.budgetMs;
    this.lastFlush = started;
    conn.cork();
    try {
      while (this.head < this.queue.length) {
        if (conn.writableLength > this.highWater) {
          this.waitDrain(conn);
          return;
        }
        const item = this.queue[this.head];
        if (item.kind === 'shared') {
          if (this.writeShared(conn, ctx, item)) this.head++;
        } else {
          this.head++;
          let messages: Uint8Array[] = [];
          try {
            messages = item.kind === 'marker' ? [encodeMarker(item.marker, ctx)] : packUpdates(item.input, ctx);
          } catch (err) {
            this.hooks.failed(err);
          }
          for (const m of messages) if (conn.write(m)) this.hooks.sent(m[18]);
        }
        if (performance.now() > deadline) break;
      }
    } finally {
      conn.uncork();
    }
    if (this.head >= this.queue.length) {
      this.queue = [];
      this.head = 0;
    } else {
      this.schedule(false);
    }
  }

  /** Writes the next block of a shared update for this peer; true when the update is done. */
  private writeShared(conn: Connection, ctx: CodecContext, e: Extract<Outbound, { kind: 'shared' }>): boolean {
    e.packing ??= packingOf(e.item, ctx);
    const block = e.packing.block(e.next);
    if (block === undefined) return true;
    e.next++;
    // Reported once, by the member that finds them first (not once per member of a large group).
    for (const err of block.errors.splice(0)) this.hooks.failed(err);
    const skip = skippedBy(block, this.hooks.peer ?? '');
    let at = 0;
    let messages = block.messages;
    let ok = true;
    for (const cut of skip) {
      if (cut.start > at) ok = conn.write(block.bytes.subarray(at, cut.start)) && ok;
      at = Math.max(at, cut.end);
      messages -= cut.messages;
    }
    if (at < block.bytes.length) ok = conn.write(at === 0 ? block.bytes : block.bytes.subarray(at)) && ok;
    if (ok && messages > 0) this.hooks.sent(MessageType.UPDATE, messages);
    return e.packing.complete && e.next >= e.packing.blocks.length;
  }

  private waitDrain(conn: Connection): void {
    const generation = this.generation;
    const onDrain = (): void => {
      this.drainOff = undefined;
      if (generation !== this.generation) return;
      this.waitingDrain = false;
      this.schedule(false);
    };
    this.waitingDrain = true;
    conn.socket.once('drain', onDrain);
    this.drainOff = () => conn.socket.off('drain', onDrain);
  }
}
