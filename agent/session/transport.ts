/**
 * A session's TCP side: the active connect (RFC 4271 section 8, ConnectRetry is the FSM's), the
 * passive accept, connection collision (RFC 4271 section 6.8) and the digest loop. Outgoing
 * connections carry the TCP MD5 key from before the SYN (RFC 2385), TTL 1 for direct eBGP or 255,
 * and for GTSM TTL 255 with a floor of 256 - hops (RFC 5082). While the session is in OpenSent or
 * OpenConfirm a second connection gets our OPEN; as soon as the peer's BGP identifier is known the
 * one opened by the side with the higher identifier stays and the other gets Cease / Connection
 * Collision Resolution. Inbound messages of the session's connection go to the host in order, at
 * most `budgetMs` per event loop turn (the 50 ms rule), then the loop yields.
 * Not here: decoding and the FSM (session.ts), framing and backpressure (connection.ts).
 */

import type * as net from 'node:net';
import { CeaseSubcode, ErrorCode } from '../bgp/constants.js';
import { BgpError } from '../bgp/errors.js';
import { decodeMessage } from '../bgp/message.js';
import { encodeNotification, notificationFor } from '../bgp/notification.js';
import { checkOpen } from '../bgp/open.js';
import { connectWithOptions, setSocketMinTtl, setSocketTtl } from '../../netlink/socket-options.js';
import { Connection, type Inbound } from './connection.js';
import type { Notify, State } from './fsm.js';
import { collisionWinner, socketErrorWords } from './inbound.js';
import type { Logger } from './logger.js';
import type { PeerSpec } from './peer.js';
import type { Clock } from './timers.js';

export interface TransportHost {
  state(): State;
  /** A message or signal of the session's connection, in arrival order. */
  inbound(item: Inbound): void;
  /** The session has a connection now (TcpConnectionConfirmed). */
  connected(): void;
  /** The active connect failed, in words (TcpConnectionFails). */
  connectFailed(words: string): void;
  /** The second connection replaced the first: the FSM starts over in OpenSent. */
  promoted(): void;
  /** Message counters: a message of `type` went out or came in. */
  counted(direction: 'in' | 'out', type: number): void;
}

export const CEASE_COLLISION: Notify = { code: ErrorCode.CEASE, subcode: CeaseSubcode.CONNECTION_COLLISION };

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
      ...(s.localAddress ? { localAddress: s.localAddress } : {}),
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
      conn.close(notificationBytes(CEASE_COLLISION));
    } else if (state === 'Connect' || state === 'Active') {
      this.main = conn;
      this.host.connected();
    } else {
      this.dropSecond();
      this.second = conn;
      this.writeOn(conn, this.openBytes());
    }
  }

  /**
   * The peer's identifier is known (an OPEN arrived on either connection): with two connections,
   * keep one. Returns which one the session now uses.
   */
  collide(peerId: string): 'main' | 'second' {
    const main = this.main;
    const second = this.second;
    if (!main || !second) return 'main';
    if (this.host.state() === 'Established') {
      this.dropSecond(CEASE_COLLISION);
      return 'main';
    }
    const winner = collisionWinner(this.spec.routerId, peerId);
    // Two incoming connections: the peer gave up on the older one.
    const keepSecond = main.direction === second.direction || second.direction === winner;
    this.log.info(`connection collision with ${peerId}: keeping the ${keepSecond ? second.direction : main.direction}going connection`);
    if (!keepSecond) {
      this.dropSecond(CEASE_COLLISION);
      return 'main';
    }
    this.promote();
    return 'second';
  }

  /** The session's connection failed before Established while a second one exists: use that. */
  fallBack(): boolean {
    if (!this.second || this.host.state() === 'Established') return false;
    this.promote();
    return true;
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

  private dropSecond(n?: Notify): void {
    if (!this.second) return;
    if (n) this.host.counted('out', 3);
    this.second.close(n ? notificationBytes(n) : undefined);
    this.second = undefined;
  }

  private promote(): void {
    const old = this.main;
    this.main = this.second;
    this.second = undefined;
    if (old) {
      this.host.counted('out', 3);
      old.close(notificationBytes(CEASE_COLLISION));
    }
    this.host.promoted();
    if (this.main && this.main.pending > 0) this.schedule();
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.digest();
    });
  }

  /** Hands queued messages on for at most the budget, then yields to timers and other sockets. */
  private digest(): void {
    const deadline = performance.now() + this.budgetMs;
    for (;;) {
      const conn = this.second && this.second.pending > 0 ? this.second : this.main && this.main.pending > 0 ? this.main : undefined;
      if (!conn) return;
      const item = conn.next();
      if (item !== undefined) {
        try {
          if (conn === this.second) this.secondInbound(item);
          else if (conn === this.main) this.host.inbound(item);
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

  /** The second connection only ever carries the peer's OPEN before the collision is resolved. */
  private secondInbound(item: Inbound): void {
    if (!(item instanceof Uint8Array)) return this.dropSecond();
    const peerId = this.peerIdOf(item);
    // Promoted, the OPEN is the session's first message on its new connection (counted there).
    if (peerId !== undefined && this.collide(peerId) === 'second') return this.host.inbound(item);
    this.host.counted('in', item[18]);
  }

  /** The BGP identifier of an acceptable OPEN; anything else drops the second connection. */
  private peerIdOf(bytes: Uint8Array): string | undefined {
    try {
      const msg = decodeMessage(bytes);
      if (msg.type !== 'open') return void this.dropSecond();
      const err = checkOpen(msg, { peerAs: this.spec.peerAs, localId: this.spec.routerId, internal: this.spec.internal });
      if (err) return void this.dropSecond(notificationFor(err));
      return msg.bgpId;
    } catch (err) {
      return void this.dropSecond(err instanceof BgpError ? notificationFor(err) : undefined);
    }
  }
}
