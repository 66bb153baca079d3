/**
 * UDP sockets that know the TTL / Hop Limit each datagram arrived with, for BFD's GTSM check
 * (RFC 5881 section 5), on top of rack-agent's N-API addon (netlink/native/src/udp.c: IP_RECVTTL /
 * IPV6_RECVHOPLIMIT and recvmsg(2) from a uv_poll_t on the calling thread's event loop, so it works
 * in a worker_threads Worker). Node's dgram cannot read the received TTL. IP_MINTTL would let the
 * kernel drop low-TTL datagrams, but Linux checks it for TCP only (test/bfd/ttl.test.ts shows a
 * TTL 254 datagram reaching a UDP socket with IP_MINTTL 255), and a kernel drop is not counted
 * per peer; the check is made in TypeScript instead, where it is counted. Each datagram also
 * carries the interface it arrived on and the address it was sent to (IP_PKTINFO /
 * IPV6_RECVPKTINFO): a link-local BFD session is keyed by interface (RFC 5881 section 3), a
 * multihop one by its address pair (RFC 5883 section 3). Addresses to bind and send to may carry
 * a scope (`fe80::1%eth0`): the addon sets sin6_scope_id.
 * Not here: BFD itself (agent/bfd/).
 */
import { createRequire } from 'node:module';

export interface UdpMessage {
  readonly data: Buffer;
  readonly address: string;
  readonly port: number;
  /** -1 when the kernel sent no TTL control message. */
  readonly ttl: number;
  /** The interface it arrived on; '' when the kernel did not say. */
  readonly ifname: string;
  /** The address it was sent to (ours); '' when the kernel did not say. */
  readonly local: string;
}

interface NativeUdp {
  udpOpen(family: 4 | 6, address: string, port: number, ttl: number, onMessage: ((buf: Buffer, address: string, port: number, ttl: number, ifname: string, local: string) => void) | null, onError: (err: Error) => void): unknown;
  udpSend(handle: unknown, data: Buffer, address: string, port: number): void;
  udpPort(handle: unknown): number;
  udpClose(handle: unknown): void;
}

const native = createRequire(import.meta.url)('rack-agent-native') as NativeUdp;

export interface UdpOptions {
  readonly family: 4 | 6;
  /** '' binds the wildcard address of the family. */
  readonly address: string;
  /** 0: the kernel picks. */
  readonly port: number;
  /** TTL / Hop Limit of what this socket sends. */
  readonly ttl: number;
  /** Absent: a send-only socket (no polling). */
  readonly onMessage?: (m: UdpMessage) => void;
  readonly onError: (err: Error) => void;
}

export class UdpSocket {
  private handle: unknown;
  private closed = false;

  constructor(readonly options: UdpOptions) {
    const address = options.address !== '' ? options.address : options.family === 4 ? '0.0.0.0' : '::';
    const on = options.onMessage;
    this.handle = native.udpOpen(options.family, address, options.port, options.ttl, on ? (data, from, port, ttl, ifname, local) => on({ data, address: from, port, ttl, ifname, local }) : null, options.onError);
  }

  get port(): number {
    return native.udpPort(this.handle);
  }

  /** Throws the addon's errno error (`code` 'EAGAIN', 'ENETUNREACH', ...). */
  send(data: Buffer, address: string, port: number): void {
    native.udpSend(this.handle, data, address, port);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    native.udpClose(this.handle);
    this.handle = undefined;
  }
}
