/**
 * BGP unnumbered's link: one raw ICMPv6 socket per interface peer (npm raw-socket, bound to the
 * device with SO_BINDTODEVICE, an ICMP6_FILTER passing only RFC 4861's router solicitations and
 * advertisements and neighbour solicitations and advertisements). It
 * - sends a router solicitation (RFC 4861 section 6.3.7) when it opens, so a router that
 *   advertises answers at once instead of at its next interval;
 * - sends our router advertisement, router lifetime 0 (we are no default router, section 6.2.3),
 *   with our link-layer address, when it opens, every `intervalMs`, and in answer to a
 *   solicitation: FRR learns an unnumbered neighbour only from an RA (LAB-NOTES);
 * - reports the link-local source of every RA, NS and NA heard (the caller decides, link-neighbours.ts).
 * Hop limit 255 on what we send (section 6.1: receivers drop anything else). raw-socket does not
 * give the received hop limit, so it is not checked here: an address learned this way is only
 * where we open a TCP connection, whose own checks (TTL, GTSM, the OPEN) still apply.
 * The kernel computes ICMPv6 checksums on raw sockets (RFC 3542 section 3.1).
 * Not here: which neighbour is the peer (link-neighbours.ts), the BGP session.
 */
import { IPPROTO_ICMPV6, IPPROTO_IPV6, loadRawSocket, passIcmp6, SOL_SOCKET } from '../contracts/raw-socket.js';

export const ND = { RS: 133, RA: 134, NS: 135, NA: 136 } as const;

// <asm-generic/socket.h>, <linux/in6.h>.
const SO_BINDTODEVICE = 25;
const IPV6_UNICAST_HOPS = 16;
const IPV6_MULTICAST_HOPS = 18;

/** Router solicitation: type, code, checksum (kernel), 4 reserved bytes. */
export function routerSolicitation(): Buffer {
  const b = Buffer.alloc(8);
  b[0] = ND.RS;
  return b;
}

/**
 * Router advertisement with router lifetime 0 and no prefixes (RFC 4861 section 4.2): hop limit,
 * flags, reachable time and retrans timer unspecified (0), and the source link-layer address
 * option when `mac` is known (`aa:bb:cc:dd:ee:ff`).
 */
export function routerAdvertisement(mac: string): Buffer {
  const bytes = mac.split(':').map((x) => Number.parseInt(x, 16));
  const withMac = bytes.length === 6 && bytes.every((x) => Number.isInteger(x) && x >= 0 && x <= 255) && bytes.some((x) => x !== 0);
  const b = Buffer.alloc(withMac ? 24 : 16);
  b[0] = ND.RA;
  if (withMac) {
    b[16] = 1; // Source Link-Layer Address
    b[17] = 1; // in units of 8 bytes
    Buffer.from(bytes).copy(b, 18);
  }
  return b;
}

/** The ND message type of an ICMPv6 message, or undefined for anything else or a short one. */
export function ndType(message: Buffer): number | undefined {
  if (message.length < 8 || message[1] !== 0) return undefined; // RFC 4861: ND codes are 0
  const t = message[0];
  return t === ND.RS || t === ND.RA || t === ND.NS || t === ND.NA ? t : undefined;
}

export interface NdLink {
  close(): void;
  /** Sends our RA now (a link that came back up). */
  advertise(): void;
}

export interface NdLinkOptions {
  readonly ifname: string;
  /** Our MAC on the link, for the RA's source link-layer option ('' to leave it out). */
  readonly mac: () => string;
  readonly intervalMs: number;
  readonly onHeard: (source: string, type: number) => void;
  readonly onError: (words: string) => void;
}

/** Opens the link's ND socket; throws (raw-socket's words) without CAP_NET_RAW or the device. */
export function openNdLink(o: NdLinkOptions): NdLink {
  const socket = loadRawSocket().createSocket({ protocol: IPPROTO_ICMPV6, addressFamily: 2 });
  try {
    socket.setOption(SOL_SOCKET, SO_BINDTODEVICE, Buffer.from(`${o.ifname}\0`), o.ifname.length + 1);
    socket.setOption(IPPROTO_IPV6, IPV6_MULTICAST_HOPS, 255);
    socket.setOption(IPPROTO_IPV6, IPV6_UNICAST_HOPS, 255);
    passIcmp6(socket, Object.values(ND));
  } catch (err) {
    socket.close();
    throw err;
  }
  const send = (message: Buffer, to: string): void => {
    try {
      socket.send(message, 0, message.length, `${to}%${o.ifname}`, () => undefined, (err) => {
        if (err) o.onError(`sending ${message[0] === ND.RA ? 'a router advertisement' : 'a router solicitation'} on ${o.ifname}: ${err.message}`);
      });
    } catch (err) {
      o.onError(`sending on ${o.ifname}: ${(err as Error).message}`);
    }
  };
  let lastAdvert = 0;
  const advertise = (): void => {
    lastAdvert = Date.now();
    send(routerAdvertisement(o.mac()), 'ff02::1');
  };
  socket.on('message', (message, source) => {
    const type = ndType(message);
    if (type === undefined) return;
    // At most one answer a second, however many solicitations arrive.
    if (type === ND.RS && Date.now() - lastAdvert >= 1000) advertise();
    o.onHeard(source, type);
  });
  socket.on('error', (err) => o.onError(`ICMPv6 socket on ${o.ifname}: ${err.message}`));
  send(routerSolicitation(), 'ff02::2');
  advertise();
  const timer = setInterval(advertise, o.intervalMs);
  timer.unref();
  return {
    advertise,
    close() {
      clearInterval(timer);
      socket.close();
    },
  };
}
