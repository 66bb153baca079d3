/**
 * npm raw-socket 1.8.x, as the agent's raw sockets use it (`agentctl check`'s ICMP probes,
 * agent/check/raw.ts; BGP unnumbered's ICMPv6 neighbour discovery, agent/peers/nd-socket.ts): the
 * part of its Socket they call, and the module loaded on first use (an agent that never opens a
 * raw socket never loads the addon). Not here: socket options or what is sent (the users).
 */
import { createRequire } from 'node:module';

/** The part of raw-socket's Socket the agent uses. */
export interface RawSocket {
  on(event: 'message', listener: (buffer: Buffer, source: string) => void): this;
  on(event: 'error', listener: (err: Error) => void): this;
  send(buffer: Buffer, offset: number, length: number, address: string,
    before: () => void, after: (err: Error | null, bytes: number) => void): this;
  setOption(level: number, option: number, value: number | Buffer, length?: number): void;
  close(): this;
}

export interface RawModule {
  createSocket(options: { protocol: number; addressFamily: number; bufferSize?: number }): RawSocket;
}

let rawModule: RawModule | null = null;

/** raw-socket, loaded once; throws as require() does when the addon is missing. */
export function loadRawSocket(): RawModule {
  rawModule ??= createRequire(import.meta.url)('raw-socket') as RawModule;
  return rawModule;
}

// Linux <asm-generic/socket.h>, <netinet/in.h>, <netinet/icmp6.h>: the levels both users set options at.
export const SOL_SOCKET = 1;
export const IPPROTO_IPV6 = 41;
export const IPPROTO_ICMPV6 = 58;

/** Lets only `types` through an ICMPv6 raw socket (RFC 3542 section 3.2, ICMP6_FILTER). */
export function passIcmp6(socket: RawSocket, types: readonly number[]): void {
  const filter = Buffer.alloc(32, 0xff); // struct icmp6_filter: 256 bits, a set bit blocks that type
  for (const type of types) filter[type >> 3] &= ~(1 << (type & 7));
  socket.setOption(IPPROTO_ICMPV6, 1 /* ICMP6_FILTER */, filter, filter.length);
}
