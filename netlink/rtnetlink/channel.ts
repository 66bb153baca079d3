/**
 * NetlinkChannel: one AF_NETLINK NETLINK_ROUTE socket of the addon (netlink/native/src/netlink.c),
 * typed. Received datagrams arrive through onData (several datagrams concatenated, whole messages
 * only); receive errors, ENOBUFS included, arrive through onError as NetlinkError and never throw.
 * Sockets belong to the network namespace of the process that opens them.
 * Shutdown order (close): nothing more is sent (queued datagrams are dropped), the socket is closed
 * at once (no receive callback after it), and close resolves when every send callback has run.
 * Not here: message encoding (message.ts) or request bookkeeping (route-socket.ts).
 */
import { createRequire } from 'node:module';
import { NetlinkError, toNetlinkError } from './errors.js';

interface NativeNetlink {
  nlOpen(groups: readonly number[], rcvbuf: number, sndbuf: number,
    onData: (buf: Buffer) => void, onError: (err: Error) => void): object;
  nlSend(handle: object, buf: Buffer): number;
  nlSendAsync(handle: object, buf: Buffer, callback: (err: Error | null, sent?: number) => void): void;
  nlDrain(handle: object): void;
  nlSendStats(handle: object): [datagrams: number, seconds: number];
  nlPortId(handle: object): number;
  nlIgnorePort(handle: object, portId: number): void;
  nlClose(handle: object): void;
}

let addon: NativeNetlink | undefined;

function native(): NativeNetlink {
  if (addon === undefined) {
    const require = createRequire(import.meta.url);
    try {
      addon = require('rack-agent-native') as NativeNetlink;
    } catch (err) {
      throw new NetlinkError('open', 'ENOENT',
        'rack-agent-native addon is not built: run `npm ci` (node-gyp; npm_config_nodedir=/usr)', { cause: err });
    }
  }
  return addon;
}

export interface ChannelOptions {
  /** RTNLGRP_* multicast groups to join. */
  readonly groups?: readonly number[];
  /** SO_RCVBUF(FORCE) bytes; 0 keeps the default. */
  readonly rcvbuf?: number;
  readonly sndbuf?: number;
  readonly onData: (buf: Buffer) => void;
  readonly onError: (err: NetlinkError) => void;
}

export class NetlinkChannel {
  /** null once close() has begun: nothing more is sent. */
  private handle: object | null;
  readonly portId: number;
  /** Datagrams queued by sendAsync whose callback has not run. */
  private queued = 0;
  /** close() waits for the last of those callbacks. */
  private drained: (() => void) | null = null;
  /** sendStats() as it was at close(). */
  private lastStats = { datagrams: 0, seconds: 0 };
  private closing: Promise<void> | null = null;

  private constructor(handle: object) {
    this.handle = handle;
    this.portId = native().nlPortId(handle);
  }

  static open(options: ChannelOptions): NetlinkChannel {
    const onError = (err: Error): void => {
      const typed = toNetlinkError('recv', err);
      options.onError(typed instanceof NetlinkError ? typed : new NetlinkError('recv', 'EIO', String(err)));
    };
    try {
      const handle = native().nlOpen(options.groups ?? [], options.rcvbuf ?? 0, options.sndbuf ?? 0,
        options.onData, onError);
      return new NetlinkChannel(handle);
    } catch (err) {
      throw toNetlinkError('open', err);
    }
  }

  /** Datagrams queued by sendAsync whose callback has not run yet. */
  get sending(): number {
    return this.queued;
  }

  get closed(): boolean {
    return this.handle === null;
  }

  /** Sends one datagram (one or more messages); the kernel has processed it when this returns. */
  send(buf: Buffer): number {
    if (this.handle === null) throw new NetlinkError('send', 'EBADF', 'netlink channel is closed');
    try {
      return native().nlSend(this.handle, buf);
    } catch (err) {
      throw toNetlinkError('send', err);
    }
  }

  /**
   * Queues a datagram for the addon's send worker (netlink-send.c): it sends the queue in order,
   * back to back, without waiting for the event loop, so the kernel works while JS does other
   * things. Any number may be queued; callbacks run in queue order, once each (ECANCELED for what
   * close() dropped before it went out).
   */
  sendAsync(buf: Buffer, callback: (err: NetlinkError | null) => void): void {
    if (this.handle === null) throw new NetlinkError('send', 'EBADF', 'netlink channel is closed');
    try {
      native().nlSendAsync(this.handle, buf, (err) => {
        if (--this.queued === 0) this.drained?.();
        const typed = err === null ? null : toNetlinkError('send', err);
        callback(typed === null || typed instanceof NetlinkError ? typed : new NetlinkError('send', 'EIO', String(err)));
      });
    } catch (err) {
      throw toNetlinkError('send', err);
    }
    this.queued++;
  }

  /**
   * Datagrams the send queue's workers (sendAsync) sent, and their time inside sendto: the kernel
   * applies a request inside sendto, so this is the kernel's time on our writes. After close(),
   * the numbers at close.
   */
  sendStats(): { datagrams: number; seconds: number } {
    if (this.handle === null) return this.lastStats;
    const [datagrams, seconds] = native().nlSendStats(this.handle);
    return { datagrams, seconds };
  }

  /** Reads what is waiting now; onData/onError run before this returns. */
  drain(): void {
    if (this.handle !== null) native().nlDrain(this.handle);
  }

  /** Drops, in the kernel, every message carrying nlmsg_pid `portId` (our own requests' echoes). */
  ignorePort(portId: number): void {
    if (this.handle === null) throw new NetlinkError('open', 'EBADF', 'netlink channel is closed');
    try {
      native().nlIgnorePort(this.handle, portId);
    } catch (err) {
      throw toNetlinkError('open', err);
    }
  }

  /**
   * Stops sending at once (datagrams queued and not yet sent are dropped: their callbacks get
   * ECANCELED), closes the socket and resolves when every send callback has run. Idempotent:
   * every call returns the same promise; it never rejects.
   */
  close(): Promise<void> {
    if (this.closing !== null) return this.closing;
    if (this.handle !== null) this.lastStats = this.sendStats();
    const handle = this.handle;
    this.handle = null;
    if (handle !== null) native().nlClose(handle);
    this.closing = this.queued === 0 ? Promise.resolve() : new Promise((resolve) => {
      this.drained = resolve;
    });
    return this.closing;
  }
}
