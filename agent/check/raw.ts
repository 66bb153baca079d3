/**
 * The raw ICMP sockets of `agentctl check`, over npm raw-socket 1.8.x (a small libuv addon: one
 * SOCK_RAW socket, sendto/recvfrom, setsockopt). What this adds: Don't Fragment on every probe
 * (IPv4: IP_MTU_DISCOVER = IP_PMTUDISC_DO, so the kernel sets DF and never fragments; IPv6:
 * IPV6_DONTFRAG, so a packet above the path MTU is refused, never fragmented at the source), a
 * 1 MiB receive buffer (SO_RCVBUFFORCE with CAP_NET_ADMIN, else SO_RCVBUF up to rmem_max), an ICMPv6 filter that passes only echo replies and errors, a family
 * guard (raw-socket 1.8.1 sends an IPv6 address given to an IPv4 socket to 0.0.0.0, silently),
 * and errno names for raw-socket's strerror() texts. Opening needs CAP_NET_RAW: EPERM becomes
 * CheckError NO_CAP_NET_RAW. Not here: what is sent or what a reply means (prober.ts, icmp.ts).
 */
import { isIP } from 'node:net';

import { IPPROTO_IPV6, loadRawSocket, passIcmp6, type RawSocket, SOL_SOCKET } from '../contracts/raw-socket.js';
import { CheckError } from './errors.js';
import type { Family } from './icmp.js';

// Linux <netinet/in.h>, <linux/in6.h>, <netinet/icmp6.h>.
const SO_RCVBUF = 8;
/** Past net.core.rmem_max; needs CAP_NET_ADMIN, which the agent holds for its routes. */
const SO_RCVBUFFORCE = 33;
const IPPROTO_IP = 0;
const IP_MTU_DISCOVER = 10;
const IP_PMTUDISC_DO = 2;
const IPV6_DONTFRAG = 62;
/** ICMPv6 types let through the filter: unreachable, packet too big, time exceeded, echo reply. */
const ICMP6_PASS = [1, 2, 3, 129];
const RECEIVE_BUFFER = 1024 * 1024;
/** Big enough for a jumbo frame's reply. */
const READ_BUFFER = 65536;

/** raw-socket reports errors as strerror() text; the errno names are what callers compare. */
const ERRNO_BY_TEXT: Readonly<Record<string, string>> = {
  'Operation not permitted': 'EPERM',
  'Permission denied': 'EACCES',
  'Message too long': 'EMSGSIZE',
  'Network is unreachable': 'ENETUNREACH',
  'No route to host': 'EHOSTUNREACH',
  'Invalid argument': 'EINVAL',
  'No buffer space available': 'ENOBUFS',
  'Resource temporarily unavailable': 'EAGAIN',
  'Address family not supported by protocol': 'EAFNOSUPPORT',
  'Cannot assign requested address': 'EADDRNOTAVAIL',
  'Bad file descriptor': 'EBADF',
  'Socket operation on non-socket': 'ENOTSOCK',
  'Network is down': 'ENETDOWN',
};

export function errnoName(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return ERRNO_BY_TEXT[text] ?? text;
}

/** The family of an address, a `%zone` suffix (IPv6 link-local) ignored; 0 when not an address. */
export function addressFamily(address: string): 0 | 4 | 6 {
  const percent = address.indexOf('%');
  return isIP(percent === -1 ? address : address.slice(0, percent)) as 0 | 4 | 6;
}

export interface IcmpSocket {
  readonly family: Family;
  /** Sends one ICMP message; `sent` runs just before sendto, `done` after it (err: an errno name). */
  send(address: string, message: Buffer, sent: () => void, done: (errno: string | null) => void): void;
  close(): void;
}

export type OnDatagram = (datagram: Buffer, source: string) => void;

/** One raw ICMP (4) or ICMPv6 (6) socket with DF set; throws CheckError NO_CAP_NET_RAW or SOCKET_FAILED. */
export function openIcmpSocket(family: Family, onDatagram: OnDatagram, onError: (err: Error) => void): IcmpSocket {
  const raw = loadRawSocket();
  let socket: RawSocket;
  try {
    socket = raw.createSocket({ protocol: family === 4 ? 1 : 58, addressFamily: family === 4 ? 1 : 2, bufferSize: READ_BUFFER });
  } catch (err) {
    const errno = errnoName(err);
    if (errno === 'EPERM' || errno === 'EACCES') {
      throw new CheckError('NO_CAP_NET_RAW', `no CAP_NET_RAW: cannot open a raw ICMP${family === 6 ? 'v6' : ''} socket (${errno})`, { cause: err });
    }
    throw new CheckError('SOCKET_FAILED', `cannot open a raw ICMP${family === 6 ? 'v6' : ''} socket: ${errno}`, { cause: err });
  }
  try {
    if (family === 4) {
      socket.setOption(IPPROTO_IP, IP_MTU_DISCOVER, IP_PMTUDISC_DO);
    } else {
      socket.setOption(IPPROTO_IPV6, IPV6_DONTFRAG, 1);
      passIcmp6(socket, ICMP6_PASS);
    }
  } catch (err) {
    socket.close();
    throw new CheckError('SOCKET_FAILED', `cannot set Don't Fragment on the raw socket: ${errnoName(err)}`, { cause: err });
  }
  try {
    socket.setOption(SOL_SOCKET, SO_RCVBUFFORCE, RECEIVE_BUFFER);
  } catch {
    // Without CAP_NET_ADMIN: as much as net.core.rmem_max allows.
    try {
      socket.setOption(SOL_SOCKET, SO_RCVBUF, RECEIVE_BUFFER);
    } catch {
      // The default buffer still works; bursts of replies may be dropped and show as lost.
    }
  }
  socket.on('message', onDatagram);
  socket.on('error', onError);
  let closed = false;
  return {
    family,
    send(address, message, sent, done) {
      const given = addressFamily(address);
      if (given !== family) {
        throw new CheckError('FAMILY_MISMATCH', `${address} is not an IPv${family} address: refused on an IPv${family} socket`);
      }
      socket.send(message, 0, message.length, address, sent, (err) => done(err === null ? null : errnoName(err)));
    },
    close() {
      if (closed) return;
      closed = true;
      socket.close();
    },
  };
}
