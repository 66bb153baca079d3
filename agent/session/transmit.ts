/**
 * The outbound side of an Established session: UPDATEs (packed by agent/bgp/pack.ts, RFC 4271
 * section 9.2), End-of-RIB markers (RFC 4724 section 2) and BoRR/EoRR (RFC 7313) go out in the order
 * they were asked for, encoded a slice at a time: at most a few milliseconds of encoding per event
 * loop turn, and never more than `highWater` bytes waiting in the socket, so a full-table dump cannot
 * delay a KEEPALIVE (written straight to the socket by the session) by more than that.
 * Not here: what to advertise, or counting advertised prefixes (the RIB's job).
 */

import type { CodecContext } from '../bgp/context.js';
import { packUpdates, type PackInput, type RouteGroup } from '../bgp/pack.js';
import type { Connection } from './connection.js';

/** Prefixes per slice: one slice encodes in well under a millisecond. */
export const SLICE_PREFIXES = 2048;

/** Cuts one PackInput into several of at most `size` prefixes each, keeping the order. */
export function sliceOutbound(input: PackInput, size = SLICE_PREFIXES): PackInput[] {
  const out: PackInput[] = [];
  const withdraw = input.withdraw ?? [];
  for (let i = 0; i < withdraw.length; i += size) out.push({ withdraw: withdraw.slice(i, i + size) });
  for (const group of input.announce ?? []) {
    for (let i = 0; i < group.prefixes.length; i += size) {
      const part: RouteGroup = { attributes: group.attributes, prefixes: group.prefixes.slice(i, i + size) };
      out.push({ announce: [part] });
    }
  }
  return out;
}

export type Outbound = { readonly kind: 'pack'; readonly input: PackInput } | { readonly kind: 'raw'; readonly bytes: Uint8Array };

export interface TransmitHooks {
  /** Called for every message written, with its type code (for the counters). */
  sent(type: number): void;
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

  constructor(
    private readonly hooks: TransmitHooks,
    private readonly budgetMs = 5,
    private readonly highWater = 1 << 20,
  ) {}

  /** Starts sending on an Established connection with the negotiated encode context. */
  attach(conn: Connection, ctx: CodecContext): void {
    this.clear();
    this.conn = conn;
    this.ctx = ctx;
  }

  /** Forgets everything queued (the session went down). */
  clear(): void {
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

  send(input: PackInput): void {
    for (const slice of sliceOutbound(input)) this.queue.push({ kind: 'pack', input: slice });
    this.schedule();
  }

  raw(bytes: Uint8Array): void {
    this.queue.push({ kind: 'raw', bytes });
    this.schedule();
  }

  private schedule(): void {
    if (this.scheduled || this.waitingDrain || !this.conn) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.flush();
    });
  }

  private flush(): void {
    const conn = this.conn;
    const ctx = this.ctx;
    if (!conn || !ctx || conn.closed) return;
    const deadline = performance.now() + this.budgetMs;
    while (this.head < this.queue.length) {
      if (conn.writableLength > this.highWater) {
        this.waitingDrain = true;
        conn.socket.once('drain', () => {
          this.waitingDrain = false;
          if (this.conn === conn) this.schedule();
        });
        return;
      }
      const item = this.queue[this.head++];
      if (item.kind === 'raw') {
        if (conn.write(item.bytes)) this.hooks.sent(item.bytes[18]);
      } else {
        let messages: Uint8Array[] = [];
        try {
          messages = packUpdates(item.input, ctx);
        } catch (err) {
          this.hooks.failed(err);
        }
        for (const m of messages) if (conn.write(m)) this.hooks.sent(m[18]);
      }
      if (performance.now() > deadline) break;
    }
    if (this.head >= this.queue.length) {
      this.queue = [];
      this.head = 0;
    } else {
      this.schedule();
    }
  }
}
