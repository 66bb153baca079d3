/**
 * The two netlink sockets of a RouteSocket and its options: one for requests and dumps, one
 * subscribed to route, link and address notifications (the monitor). The monitor carries a
 * kernel-side filter that drops the notifications our own requests cause (they carry the request
 * socket's port id): their outcome is known from the answers, and a burst of our own changes can
 * never overflow the monitor. What it delivers is everyone else's.
 * Not here: what is sent on them or done with what they read (route-socket.ts).
 */
import { NetlinkChannel } from './channel.js';
import { RTNLGRP } from './constants.js';
import type { NetlinkError } from './errors.js';
import type { NlMessage } from './message.js';
import type { BulkRequests } from './request-queue.js';

export interface RouteSocketOptions {
  /** Most requests unanswered at once. */
  readonly window?: number;
  /** Most messages per datagram. */
  readonly batch?: number;
  readonly requestRcvbuf?: number;
  readonly monitorRcvbuf?: number;
  /** Multicast groups of the monitor socket; [] opens no monitor. */
  readonly groups?: readonly number[];
  /** Every message from the monitor socket, in kernel order. */
  readonly onEvent?: (msg: NlMessage) => void;
  /** Messages were lost (ENOBUFS) or could not be read: the owner must resynchronise. */
  readonly onOverflow?: (socket: 'request' | 'monitor', err: NetlinkError) => void;
  /** What submitBulk's numbers name. */
  readonly bulk?: BulkRequests;
}

/**
 * Requests unanswered at most, and per datagram: the window covers about 70 ms of kernel work
 * (route-socket.ts), so the send queue does not run dry while the main thread is busy. Not more:
 * every refused request is an error message of its own in the request socket's receive buffer,
 * and 65,536 unanswered refusals overflowed it (ENOBUFS, answers lost, a resync by dump) where
 * 16,384 fit (test/netlink/send-queue.test.ts floods 200,000 refusals).
 */
export const DEFAULT_WINDOW = 16384;
export const DEFAULT_BATCH = 512;

export const MONITOR_GROUPS: readonly number[] = [
  RTNLGRP.IPV4_ROUTE, RTNLGRP.IPV6_ROUTE, RTNLGRP.LINK, RTNLGRP.IPV4_IFADDR, RTNLGRP.IPV6_IFADDR,
];

export interface Sockets {
  readonly requests: NetlinkChannel;
  readonly monitor: NetlinkChannel | null;
}

export interface SocketHandlers {
  readonly onRequestData: (buf: Buffer) => void;
  readonly onRequestError: (err: NetlinkError) => void;
  readonly onMonitorData: (buf: Buffer) => void;
  readonly onMonitorError: (err: NetlinkError) => void;
}

/** Opens the monitor (unless options.groups is []) and then the request socket; both or neither. */
export function openSockets(options: RouteSocketOptions, handlers: SocketHandlers): Sockets {
  const groups = options.groups ?? MONITOR_GROUPS;
  const monitor = groups.length === 0 ? null : NetlinkChannel.open({
    groups,
    rcvbuf: options.monitorRcvbuf ?? 8 * 1024 * 1024,
    onData: handlers.onMonitorData,
    onError: handlers.onMonitorError,
  });
  try {
    const requests = NetlinkChannel.open({
      rcvbuf: options.requestRcvbuf ?? 8 * 1024 * 1024,
      sndbuf: 4 * 1024 * 1024,
      onData: handlers.onRequestData,
      onError: handlers.onRequestError,
    });
    monitor?.ignorePort(requests.portId);
    return { requests, monitor };
  } catch (err) {
    monitor?.close();
    throw err;
  }
}
