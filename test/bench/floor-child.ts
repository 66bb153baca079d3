/**
 * The kernel's own floor for bench:e2e (issue 21), run inside the bench's namespace: N IPv4 /26
 * routes (the agent's: via GATEWAY dev IFINDEX, the default metric, table main) as batched
 * RTM_NEWROUTE (512 a datagram, one ACK each), written by a minimal loop: every datagram is
 * built before the clock starts, then sent back to back with the addon's synchronous send
 * (the kernel does its work inside sendto) until the main table holds N more prefixes
 * (/proc/self/net/fib_triestat). No BGP, no RIB, no event loop turns between datagrams.
 *
 *   node floor-child.js N FIRST IFINDEX GATEWAY [nhid]    prints {"seconds": s, "datagrams": d}
 *
 * With `nhid`, the same routes through a kernel nexthop object (RTM_NEWNEXTHOP, created before the
 * clock starts; each route carries RTA_NH_ID instead of its gateway and device): what the kernel
 * would take if the agent used nexthop objects, which SPEC.md's route form does not (README,
 * issue 21's known limits). A measurement only.
 */
import { readFileSync } from 'node:fs';
import { numberToIpv4 } from '../../agent/bgp/ip.js';
import { NetlinkChannel } from '../../netlink/rtnetlink/channel.js';
import { NLM_F, RTA, RTM, RTN } from '../../netlink/rtnetlink/constants.js';
import { encodeBatch } from '../../netlink/rtnetlink/message.js';
import { encodeRoute, routeMessage } from '../../netlink/rtnetlink/route.js';
import { triestatMain } from './proc.js';

const [count, first, ifindex] = process.argv.slice(2, 5).map(Number);
const gateway = process.argv[5];
const viaNexthop = process.argv[6] === 'nhid';
const NH_ID = 1;
const RTM_NEWNEXTHOP = 104;
/** struct nhmsg (AF_INET, protocol 199) and NHA_ID, NHA_OIF, NHA_GATEWAY (linux/nexthop.h). */
function nexthopPayload(): Buffer {
  const b = Buffer.alloc(8 + 8 + 8 + 8);
  b.writeUInt8(2, 0); // nh_family AF_INET
  b.writeUInt8(199, 2); // nh_protocol
  b.writeUInt16LE(8, 8); b.writeUInt16LE(1, 10); b.writeUInt32LE(NH_ID, 12); // NHA_ID
  b.writeUInt16LE(8, 16); b.writeUInt16LE(5, 18); b.writeUInt32LE(ifindex, 20); // NHA_OIF
  b.writeUInt16LE(8, 24); b.writeUInt16LE(6, 26);
  gateway.split('.').forEach((octet, k) => b.writeUInt8(Number(octet), 28 + k)); // NHA_GATEWAY
  return b;
}
/** A route's payload: via the gateway on the device, or through the nexthop object (RTA_NH_ID). */
function routePayload(dst: string): Buffer {
  if (!viaNexthop) {
    return encodeRoute(routeMessage({ family: 4, dstLen: 26, protocol: 199, type: RTN.UNICAST, priority: 0, dst, gateway, oif: ifindex }));
  }
  const nh = Buffer.alloc(8);
  nh.writeUInt16LE(8, 0);
  nh.writeUInt16LE(RTA.NH_ID, 2);
  nh.writeUInt32LE(NH_ID, 4);
  return Buffer.concat([encodeRoute(routeMessage({ family: 4, dstLen: 26, protocol: 199, type: RTN.UNICAST, priority: 0, dst })), nh]);
}
const BATCH = 512;
const mainPrefixes = (): number => triestatMain(readFileSync('/proc/self/net/fib_triestat', 'utf8'));

const datagrams: Buffer[] = [];
for (let at = 0; at < count; at += BATCH) {
  const n = Math.min(BATCH, count - at);
  datagrams.push(encodeBatch(Array.from({ length: n }, (_, k) => ({
    type: RTM.NEWROUTE,
    flags: NLM_F.REQUEST | NLM_F.CREATE | NLM_F.EXCL | (k === n - 1 ? NLM_F.ACK : 0),
    seq: at + k + 1,
    payload: routePayload(numberToIpv4((first + (at + k) * 64) >>> 0)),
  }))));
}
// The ACKs and any error are read (and errors counted) as they come; the socket's buffer is large.
let errors = 0;
const channel = NetlinkChannel.open({
  rcvbuf: 64 * 1024 * 1024,
  sndbuf: 4 * 1024 * 1024,
  onData: (buf) => {
    for (let at = 0; at + 20 <= buf.length; at += (buf.readUInt32LE(at) + 3) & ~3) {
      if (buf.readUInt16LE(at + 4) === 2 && buf.readInt32LE(at + 16) !== 0) errors++; // NLMSG_ERROR, error != 0
    }
  },
  onError: () => {
    errors++;
  },
});
if (viaNexthop) {
  channel.send(encodeBatch([{ type: RTM_NEWNEXTHOP, flags: NLM_F.REQUEST | NLM_F.CREATE | NLM_F.EXCL, seq: 0x7fffffff, payload: nexthopPayload() }]));
  channel.drain(); // its ACK, or the error that counts
}
const before = mainPrefixes();
const started = performance.now();
for (const d of datagrams) channel.send(d);
while (mainPrefixes() - before < count) {
  // The kernel has done its work inside sendto; this only confirms the table (as the bench does).
}
const seconds = (performance.now() - started) / 1000;
channel.drain();
process.stdout.write(`${JSON.stringify({ seconds, datagrams: datagrams.length, errors })}\n`);
await channel.close();
