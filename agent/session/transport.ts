/**
 * A session's TCP side: the active connect (RFC 4271 section 8, ConnectRetry is the FSM's), the
 * passive accept, the two connections of a collision (RFC 4271 section 6.8) and the digest loop.
 * Outgoing connections carry the TCP MD5 key from before the SYN (RFC 2385), TTL 1 for direct eBGP
 * or 255, and for GTSM TTL 255 with a floor of 256 - hops (RFC 5082). While the session is in
 * OpenSent or OpenConfirm a second connection gets our OPEN; `pair` tells the session who initiated
 * each of the two, for the collision rule (collision.ts), and the FSM's switchConnection /
 * refuseConnection close the loser: this file carries out, it does not decide. A second connection
 * while Established is reported to the session and kept as `second` until the session decides on
 * its OPEN (a peer restart under RFC 4724 section 4.2) or refuses it. Inbound messages of both
 * connections go to the host in order, tagged with their connection, at most `budgetMs` per event
 * loop turn (the 50 ms rule), then the loop yields. While Established the session's own connection
 * is digested first: what the peer sent on it (a NOTIFICATION before it reconnected) is older than
 * anything on a second connection.
 * Not here: decoding, OPEN checks, the collision verdict and the FSM (session.ts and the modules it
 * wires), framing and backpressure (connection.ts).
 */

import type * as net from 'node:net';
import { encodeNotification } from '../bgp/notification.js';
import { connectWithOptions, setSocketMinTtl, setSocketTtl } from './socket-options.js';
import { Connection, type Direction, type Inbound } from './connection.js';
import type { Notify, Which } from './fsm.js';
import { socketErrorWords } from './socket-errors.js';
import type { State, PeerSpec } from '../contracts/engines.js';
import type { Clock } from '../contracts/clock.js';
import type { Logger } from '../contracts/log.js';

export interface TransportHost {
  state(): State;
  /** A message or signal of one of the connections, in arrival order per connection. */
  inbound(item: Inbound, which: Which): void;
  /** The session has a connection now (TcpConnectionConfirmed). */
  connected(): void;
  /** The active connect failed, in words (TcpConnectionFails). */
  connectFailed(words: string): void;
  /** A second connection arrived while Established; it waits as `second` for the session's decision. */
  secondWhileEstablished(): void;
  /** Message counters: a message of `type` went out or came in. */
  counted(direction: 'in' | 'out', type: number): void;
}

export const notificationBytes = (n: Notify): Uint8Array =>
  encodeNotification({ code: n.code, subcode: n.subcode, data: n.data ?? new Uint8Array(0) });

export class Transport {
  private main: Connection | undefined;
  /** A second connection during a collision, until one of the two is chosen. */
  private second: Connection | undefined;
  private gen = 0;
  private scheduled = false;

  constructor(
    private readonly spec: PeerSpec,
    private readonly host: TransportHost,
    private readonly clock: Clock,
    private readonly log: Logger,
    private readonly readPassword: (path: string) => string,
    /** Our OPEN, sent on a second connection as soon as it exists. */
    private readonly openBytes: () => Uint8Array,
    private readonly budgetMs = 10,
  ) {}

  get connection(): Connection | undefined {
    return this.main;
  }

  /** Writes to the session's connection and counts the message. */
  write(bytes: Uint8Array): void {
    if (this.main?.write(bytes)) this.host.counted('out', bytes[18]);
  }

  /** The FSM's `drop`: closes both connections and forgets any connect in flight. */
  drop(): void {
    this.gen++;
    this.main?.close();
    this.main = undefined;
    this.dropSecond();
  }

  /** The FSM's `connect`; the outcome comes back as host.connected() or host.connectFailed(). */
  dial(): void {
    const gen = ++this.gen;
    const s = this.spec;
    let md5Key: string | undefined;
    try {
      md5Key = s.passwordFile ? this.readPassword(s.passwordFile) : undefined;
    } catch (err) {
      const words = `Password file: ${err instanceof Error ? err.message : String(err)}`;
      setImmediate(() => gen === this.gen && this.host.connectFailed(words));
      return;
    }
    const gtsm = s.ttlSecurity > 0;
    connectWithOptions({
      host: s.address,
      port: s.port,
      // An interface peer's zone (`fe80::1%eth0`) picks the link and the kernel our link-local
      // source on it; its localAddress is only our next hop.
      ...(s.localAddress && !s.interface ? { localAddress: s.localAddress } : {}),
      ...(md5Key ? { md5Key } : {}),
      ttl: gtsm ? 255 : s.ttl,
      ...(gtsm ? { minTtl: 256 - s.ttlSecurity } : {}),
    }).then(
      (socket) => this.dialed(gen, socket),
      (err: unknown) => {
        if (gen !== this.gen || this.main) return;
        this.log.debug(`connect to ${s.address} port ${s.port} failed: ${String(err)}`);
        this.host.connectFailed(socketErrorWords(err));
      },
    );
  }

  /** An incoming connection from the peer's address (RFC 4271 section 8.2.1.1 and 6.8). */
  accept(socket: net.Socket): void {
    this.acceptedOptions(socket);
    const state = this.host.state();
    if (state === 'Idle') {
      this.log.info(`refusing a connection from ${socket.remoteAddress}: session is Idle`);
      socket.destroy();
      return;
    }
    const conn = this.connectionOf(socket, 'in');
    if (state === 'Established') {
      this.dropSecond();
      this.second = conn;
      this.host.secondWhileEstablished();
    } else if (state === 'Connect' || state === 'Active') {
      this.main = conn;
      this.host.connected();
    } else {
      this.dropSecond();
      this.second = conn;
      this.writeOn(conn, this.openBytes());
    }
  }

  /** Who initiated each connection while there are two (a collision, RFC 4271 section 6.8). */
  get pair(): { readonly main: Direction; readonly second: Direction } | undefined {
    return this.main && this.second ? { main: this.main.direction, second: this.second.direction } : undefined;
  }

  /** Whether a second connection could take over from a failed main one (not once Established). */
  get canFallBack(): boolean {
    return this.second !== undefined && this.host.state() !== 'Established';
  }

  /** The FSM's switchConnection: the second connection becomes the session's; the old one closes. */
  switchToSecond(n?: Notify): void {
    const old = this.main;
    this.main = this.second;
    this.second = undefined;
    if (old) {
      if (n) this.host.counted('out', 3);
      old.close(n ? notificationBytes(n) : undefined);
    }
    if (this.main && this.main.pending > 0) this.schedule();
  }

  /** The FSM's refuseConnection (and a bad second connection): closes it, after `n` if given. */
  dropSecond(n?: Notify): void {
    if (!this.second) return;
    if (n) this.host.counted('out', 3);
    this.second.close(n ? notificationBytes(n) : undefined);
    this.second = undefined;
  }

  private dialed(gen: number, socket: net.Socket): void {
    const state = this.host.state();
    if (gen === this.gen && !this.main && (state === 'Connect' || state === 'Active')) {
      this.main = this.connectionOf(socket, 'out');
      this.host.connected();
    } else if (gen === this.gen && this.main?.direction === 'in' && !this.second && (state === 'OpenSent' || state === 'OpenConfirm')) {
      this.second = this.connectionOf(socket, 'out');
      this.writeOn(this.second, this.openBytes());
    } else {
      socket.destroy();
    }
  }

  /** TTL 1 for direct eBGP, 255 otherwise; GTSM: 255 and the floor from now on. */
  private acceptedOptions(socket: net.Socket): void {
    const gtsm = this.spec.ttlSecurity > 0;
    try {
      setSocketTtl(socket, gtsm ? 255 : this.spec.ttl);
      if (gtsm) setSocketMinTtl(socket, 256 - this.spec.ttlSecurity);
    } catch (err) {
      this.log.warn(`could not set TTL options on an accepted connection: ${String(err)}`);
    }
  }

  private connectionOf(socket: net.Socket, direction: 'in' | 'out'): Connection {
    return new Connection(socket, direction, this.clock, () => this.schedule());
  }

  private writeOn(conn: Connection, bytes: Uint8Array): void {
    if (conn.write(bytes)) this.host.counted('out', bytes[18]);
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.digest();
    });
  }

  /** In a collision the second connection's OPEN goes first; while Established the main one's backlog. */
  private nextToDigest(): Connection | undefined {
    const main = this.main && this.main.pending > 0 ? this.main : undefined;
    const second = this.second && this.second.pending > 0 ? this.second : undefined;
    return this.host.state() === 'Established' ? main ?? second : second ?? main;
  }

  /** Hands queued messages on for at most the budget, then yields to timers and other sockets. */
  private digest(): void {
    const deadline = performance.now() + this.budgetMs;
    for (;;) {
      const conn = this.nextToDigest();
      if (!conn) return;
      const item = conn.next();
      if (item !== undefined) {
        try {
          this.host.inbound(item, conn === this.second ? 'second' : 'main');
        } catch (err) {
          this.log.error(`internal error while handling a message: ${err instanceof Error ? err.stack : String(err)}`);
        }
      }
      if (performance.now() >= deadline) {
        this.schedule();
        return;
      }
    }
  }
}
