/**
 * RTA_VIA in the rtnetlink route codec (IPv4 routes with IPv6 next hops, RFC 8950 section 3):
 * golden bytes from this machine's kernel (6.18) and iproute2 6.1, one row per route shape. Each row
 * holds the payload the kernel dumps for a route `ip route add ...` installed (read with
 * `strace -e read=3 ip route show`), the RouteMessage it decodes to, and the payload we encode for
 * that message: iproute2's request bytes (`strace -e write=3 ip route add ...`) with our RTA_TABLE
 * added (iproute2 leaves it out below table 256) and padding zeroed (iproute2 leaves rtnexthop
 * padding uninitialised). ifindex 3 was `va`, 2 `vb`. The signature row checks that a dumped route
 * reads equal to the desired route it came from (no churn on reconcile or restart).
 */
import test from 'ava';
import { parsePrefix } from '../../agent/bgp/prefix.js';
import type { PathAttributes } from '../../agent/bgp/attributes.js';
import type { RibPath } from '../../agent/contracts/engines.js';
import { desiredRoute } from '../../netlink/fib/desired.js';
import { fibSignature, kernelRoute, routeToMessage } from '../../netlink/fib/kernel-route.js';
import type { FibContext } from '../../netlink/fib/types.js';
import { RTN } from '../../netlink/rtnetlink/constants.js';
import { NetlinkError } from '../../netlink/rtnetlink/errors.js';
import { decodeRoute, encodeRoute, routeMessage, type RouteMessage } from '../../netlink/rtnetlink/route.js';

/** Hex with spaces, newlines and `#` comments (to the end of the line: the parts below end in one). */
const hex = (text: string): Buffer => Buffer.from(text.replace(/#.*$/gm, '').replace(/\s+/g, ''), 'hex');

const RTMSG = (dst3: string): string => `
  02 1a 00 00 fe c9 00 01 00 00 00 00 # rtmsg: AF_INET, /26, table main, proto 201, universe, unicast
  08 00 01 00 c0 a8 ${dst3}           # RTA_DST 192.168.x.y
`;
const TABLE = '08 00 0f 00 fe 00 00 00   # RTA_TABLE 254\n';
const VIA = (last: string): string => `
  16 00 12 00 0a 00                   # RTA_VIA, len 22: rtvia_family AF_INET6 (10, host order)
  fe 80 00 00 00 00 00 00 00 00 00 00 00 00 00 ${last} 00 00 # fe80::${last}, 2 bytes of padding
`;

const kernelRows: Array<{ name: string; kernel: Buffer; message: RouteMessage; ours: Buffer }> = [
  {
    name: '192.168.0.64/26 via inet6 fe80::1 dev va',
    kernel: hex(`${RTMSG('00 40')} ${TABLE} ${VIA('01')} 08 00 04 00 03 00 00 00 # RTA_OIF 3`),
    message: routeMessage({
      family: 4, dst: '192.168.0.64', dstLen: 26, table: 254, protocol: 201, type: RTN.UNICAST, gateway: 'fe80::1', oif: 3,
    }),
    ours: hex(`${RTMSG('00 40')} ${VIA('01')} 08 00 04 00 03 00 00 00 ${TABLE}`),
  },
  {
    name: '192.168.1.0/26 via inet6 fd00:1::2 (no dev: the kernel resolved va from fd00:1::/64)',
    kernel: hex(`${RTMSG('01 00')} ${TABLE}
      16 00 12 00 0a 00 fd 00 00 01 00 00 00 00 00 00 00 00 00 00 00 02 00 00 # RTA_VIA fd00:1::2
      08 00 04 00 03 00 00 00 # RTA_OIF 3, added by the kernel`),
    message: routeMessage({
      family: 4, dst: '192.168.1.0', dstLen: 26, table: 254, protocol: 201, type: RTN.UNICAST, gateway: 'fd00:1::2', oif: 3,
    }),
    ours: hex(`${RTMSG('01 00')} 16 00 12 00 0a 00 fd 00 00 01 00 00 00 00 00 00 00 00 00 00 00 02 00 00
      08 00 04 00 03 00 00 00 ${TABLE}`),
  },
  {
    name: '192.168.2.0/26 nexthop via inet6 fe80::1 dev va nexthop via inet6 fe80::2 dev vb',
    kernel: hex(`${RTMSG('02 00')} ${TABLE}
      44 00 09 00                  # RTA_MULTIPATH, len 68
      20 00 00 00 03 00 00 00      # rtnexthop len 32, flags 0, hops 0 (weight 1), ifindex 3
      ${VIA('01')}
      20 00 00 00 02 00 00 00      # rtnexthop len 32, ifindex 2
      ${VIA('02')}`),
    message: routeMessage({
      family: 4, dst: '192.168.2.0', dstLen: 26, table: 254, protocol: 201, type: RTN.UNICAST,
      multipath: [{ gateway: 'fe80::1', ifindex: 3, flags: 0, weight: 1 }, { gateway: 'fe80::2', ifindex: 2, flags: 0, weight: 1 }],
    }),
    ours: hex(`${RTMSG('02 00')} ${TABLE} 44 00 09 00 20 00 00 00 03 00 00 00 ${VIA('01')} 20 00 00 00 02 00 00 00 ${VIA('02')}`),
  },
  {
    name: '192.168.3.0/26 nexthop via inet6 fe80::1 dev va nexthop via 10.1.0.2 dev vb (a mixed set)',
    kernel: hex(`${RTMSG('03 00')} ${TABLE}
      34 00 09 00                  # RTA_MULTIPATH, len 52
      20 00 00 00 03 00 00 00 ${VIA('01')}
      10 00 00 00 02 00 00 00      # rtnexthop len 16, ifindex 2
      08 00 05 00 0a 01 00 02      # RTA_GATEWAY 10.1.0.2: the route's own family needs no RTA_VIA`),
    message: routeMessage({
      family: 4, dst: '192.168.3.0', dstLen: 26, table: 254, protocol: 201, type: RTN.UNICAST,
      multipath: [{ gateway: 'fe80::1', ifindex: 3, flags: 0, weight: 1 }, { gateway: '10.1.0.2', ifindex: 2, flags: 0, weight: 1 }],
    }),
    ours: hex(`${RTMSG('03 00')} ${TABLE} 34 00 09 00 20 00 00 00 03 00 00 00 ${VIA('01')}
      10 00 00 00 02 00 00 00 08 00 05 00 0a 01 00 02`),
  },
];

for (const row of kernelRows) {
  test(`RTA_VIA golden: ${row.name}`, (t) => {
    t.deepEqual(decodeRoute(row.kernel), row.message, 'the kernel dump decodes');
    const encoded = encodeRoute(row.message);
    t.is(encoded.toString('hex'), row.ours.toString('hex'), 'our request bytes');
    t.deepEqual(decodeRoute(encoded), row.message, 'round trip');
  });
}

const attributes = {} as PathAttributes;
const path = (peer: string, nextHop: string, extra: Partial<RibPath> = {}): RibPath =>
  ({ peer, pathId: 0, nextHop, nextHopLinkLocal: '', peerAddress: peer, attributes, ...extra });
const ctx: FibContext = {
  tunnelDevice: 'tunl0', tunnelIfindex: 9, pools: [], nodeSubnet4: null,
  deviceFor: (peer) => (peer.endsWith('%va') ? { name: 'va', ifindex: 3 } : peer.endsWith('%vb') ? { name: 'vb', ifindex: 2 } : null),
};

test('RTA_VIA: each dumped route reads equal to the desired route it came from', (t) => {
  // [row, best paths, whether our request is the row's bytes (row 1's device comes from the
  // kernel; row 3's next hops are sorted the other way round)]
  const wants: Array<[number, RibPath[], boolean]> = [
    [0, [path('fe80::1%va', 'fe80::1')], true],
    [1, [path('fd00:1::2', 'fd00:1::2')], false],
    [2, [path('fe80::2%vb', 'fe80::2'), path('fe80::1%va', 'fe80::1')], true],
    [3, [path('10.1.0.2', '10.1.0.2'), path('fe80::1%va', '', { nextHopLinkLocal: 'fe80::1' })], false],
  ];
  for (const [i, best, sendsOurs] of wants) {
    const row = kernelRows[i];
    const route = desiredRoute({ prefix: parsePrefix(`${row.message.dst}/26`), best, old: [] }, ctx).route;
    if (route === null) return t.fail(row.name);
    t.is(kernelRoute(decodeRoute(row.kernel)).signature, fibSignature(route), row.name);
    if (sendsOurs) t.deepEqual(encodeRoute(routeToMessage(route, { table: 254, protocol: 201 })), row.ours, `${row.name}: what we send`);
  }
  const elsewhere = kernelRoute(decodeRoute(encodeRoute({ ...kernelRows[0].message, oif: 2 })));
  t.not(elsewhere.signature, kernelRoute(decodeRoute(kernelRows[0].kernel)).signature, 'a link-local next hop on another device differs');
});

test('RTA_VIA malformed: a NetlinkError EPROTO', (t) => {
  const route = (via: string): Buffer => hex(`${RTMSG('00 40')} ${via}`);
  const rows: Array<[string, string]> = [
    ['shorter than its family', '04 00 12 00'],
    ['an IPv6 family with 4 address bytes', '0a 00 12 00 0a 00 0a 01 00 02 00 00'],
    ['an IPv4 family with 16 address bytes', '16 00 12 00 02 00 fe 80 00 00 00 00 00 00 00 00 00 00 00 00 00 01 00 00'],
    ['an unknown family', '0a 00 12 00 1c 00 0a 01 00 02 00 00'],
  ];
  for (const [name, via] of rows) {
    const err = t.throws(() => decodeRoute(route(via)), { instanceOf: NetlinkError }, name);
    t.is(err?.code, 'EPROTO', name);
  }
  const multipath = hex(`${RTMSG('00 40')} 18 00 09 00 14 00 00 00 03 00 00 00 0a 00 12 00 0a 00 0a 01 00 02 00 00`);
  t.is(t.throws(() => decodeRoute(multipath), { instanceOf: NetlinkError })?.code, 'EPROTO', 'inside RTA_MULTIPATH');
});
