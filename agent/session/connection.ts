/**
 * One TCP connection of a session: the socket, its Framer (RFC 4271 section 4.1) and the queue of
 * whole messages waiting for the session's digest loop. Reading is paused while the queue holds
 * more than `high` bytes and resumed below `low`, so a peer sending a full table costs bounded
 * memory and TCP flow control slows it down (backpressure instead of buffering). A framing error or
 * the end of the stream is queued as a signal behind the messages that came before it, so the
 * session sees everything in order (a NOTIFICATION followed by a close). `onSend` reports every write
 * and every write that reached the kernel, with the bytes still waiting (RFC 9687, send-hold.ts).
 * Not here: decoding, the FSM, what to send (session.ts).
 */

import type * as net from 'node:net';
import { Framer } from '../bgp/framer.js';
import { socketErrorWords } from './socket-errors.js';
import type { Clock } from '../contracts/clock.js';

export type Direction = 'in' | 'out';

/** A framing failure (BgpError from the framer) or the end of the stream, in order. */
export type Signal = { readonly kind: 'framing'; readonly error: unknown } | { readonly kind: 'closed'; readonly reason: string };
export type Inbound = Uint8Array | Signal;

export interface ConnectionLimits {
  /** Queued bytes above which reading pauses. */
  readonly high: number;
  /** Queued bytes below which reading resumes. */
  readonly low: number;
}

export const DEFAULT_LIMITS: ConnectionLimits = { high: 4 << 20, low: 1 << 20 };
/** How long a closing connection may take to flush our last message before it is destroyed. */
const LINGER_MS = 3000;

export class Connection {
  private readonly framer = new Framer();
  private queue: Inbound[] = [];
  private head = 0;
  private queuedBytes = 0;
  private paused = false;
  private ended = false;
  closed = false;
  /** 'queued': a write was handed to the socket; 'progressed': one reached the kernel. */
  onSend: ((what: 'queued' | 'progressed', waiting: number) => void) | undefined;

  constructor(
    readonly socket: net.Socket,
    readonly direction: Direction,
    private readonly clock: Clock,
    private readonly onReadable: (c: Connection) => void,
    private readonly limits: ConnectionLimits = DEFAULT_LIMITS,
  ) {
    // Until the OPENs are exchanged the extended limit applies (a fast peer may send a large UPDATE
    // in the same segment as its KEEPALIVE); decodeMessage enforces the negotiated one on those.
    this.framer.allowExtendedMessages(true);
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.received(chunk));
    socket.on('end', () => this.finish('Socket: Connection closed'));
    socket.on('error', (err) => this.finish(socketErrorWords(err)));
    socket.on('close', () => this.finish('Socket: Connection closed'));
    // Accepted sockets arrive paused (pauseOnConnect); outgoing ones start reading at 'connect'.
    socket.resume();
  }

  get remoteAddress(): string {
    return this.socket.remoteAddress ?? '';
  }

  /** RFC 8654: the negotiated maximum applies to every header framed from now on. */
  allowExtendedMessages(on: boolean): void {
    this.framer.allowExtendedMessages(on);
  }

  /** Queued items (messages and signals) not yet taken. */
  get pending(): number {
    return this.queue.length - this.head;
  }

  next(): Inbound | undefined {
    if (this.head >= this.queue.length) return undefined;
    const item = this.queue[this.head];
    this.queue[this.head++] = EMPTY;
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    if (item instanceof Uint8Array) {
      this.queuedBytes -= item.length;
      if (this.paused && this.queuedBytes < this.limits.low && !this.closed) {
        this.paused = false;
        this.socket.resume();
      }
    }
    return item;
  }

  write(bytes: Uint8Array): boolean {
    if (this.closed || this.socket.destroyed) return false;
    this.socket.write(bytes, (err) => {
      if (!err) this.onSend?.('progressed', this.socket.writableLength);
    });
    this.onSend?.('queued', this.socket.writableLength);
    return true;
  }

  /** Holds writes until uncork(), which hands them to the kernel together (one writev). */
  cork(): void {
    if (!this.socket.destroyed) this.socket.cork();
  }

  uncork(): void {
    if (!this.socket.destroyed) this.socket.uncork();
  }

  /** Bytes handed to the socket but not yet to the kernel. */
  get writableLength(): number {
    return this.socket.writableLength;
  }

  /**
   * Stops reading, sends `last` (a NOTIFICATION) if given, and closes: FIN after the data, then
   * destroy once the peer closes too or after a short linger. Unread input is discarded but the
   * socket keeps reading, so the kernel does not answer our close with a RST that could make the
   * peer lose the NOTIFICATION.
   */
  close(last?: Uint8Array): void {
    if (this.closed) return;
    this.closed = true;
    this.ended = true;
    this.queue = [];
    this.head = 0;
    this.queuedBytes = 0;
    this.socket.removeAllListeners('data');
    this.socket.on('data', () => undefined);
    if (this.paused) this.socket.resume();
    if (this.socket.destroyed) return;
    const timer = this.clock.setTimeout(() => this.socket.destroy(), LINGER_MS);
    this.socket.once('close', () => this.clock.clearTimeout(timer));
    if (last) this.socket.end(last);
    else this.socket.end();
  }

  private received(chunk: Buffer): void {
    if (this.closed || this.ended) return;
    let messages: Uint8Array[];
    try {
      messages = this.framer.push(chunk);
    } catch (error) {
      this.push({ kind: 'framing', error });
      this.ended = true;
      this.socket.pause();
      return;
    }
    for (const m of messages) {
      this.queue.push(m);
      this.queuedBytes += m.length;
    }
    if (!this.paused && this.queuedBytes > this.limits.high) {
      this.paused = true;
      this.socket.pause();
    }
    if (messages.length > 0) this.onReadable(this);
  }

  private finish(reason: string): void {
    if (this.closed || this.ended) return;
    this.ended = true;
    this.push({ kind: 'closed', reason });
  }

  private push(signal: Signal): void {
    this.queue.push(signal);
    this.onReadable(this);
  }
}

const EMPTY = new Uint8Array(0);
