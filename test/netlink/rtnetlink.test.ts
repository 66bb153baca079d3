/**
 * rtnetlink codecs (netlink/rtnetlink): round trips of route, link, address and error messages,
 * a golden RTM_NEWROUTE payload annotated field by field (iproute2 sends the same rtmsg and RTA_DST,
 * RTA_GATEWAY; it leaves RTA_TABLE out for tables below 256, which we always send), framing,
 * and malformed input: every bad buffer throws a NetlinkError with a stable code, never anything else.
 */
import test from 'ava';
import { AF, IFF, NLMSG, NLM_F, RTA, RTM, RTN, RTNH_F, RT_SCOPE } from '../../netlink/rtnetlink/constants.js';
import { errnoName, NetlinkError } from '../../netlink/rtnetlink/errors.js';
import { decodeAddress, encodeAddress, type AddressMessage } from '../../netlink/rtnetlink/addr.js';
import { decodeLink, encodeLink, encodeNewLink, type LinkMessage } from '../../netlink/rtnetlink/link.js';
import {
  decodeError, encodeError, encodeMessage, forEachAttr, splitMessages,
} from '../../netlink/rtnetlink/message.js';
import { decodeRoute, encodeRoute, routeMessage, type RouteMessage } from '../../netlink/rtnetlink/route.js';
import { writeAddress } from '../../netlink/rtnetlink/address.js';

const routes: Record<string, RouteMessage> = {
  'IPv4 via, onlink, metric': routeMessage({
    family: 4, dst: '192.168.2.0', dstLen: 26, table: 254, protocol: 201, type: RTN.UNICAST,
    gateway: '10.9.0.2', oif: 7, flags: RTNH_F.ONLINK, priority: 20,
  }),
  'IPv4 blackhole in table 1000 (RTA_TABLE beyond rtm_table)': routeMessage({
    family: 4, dst: '192.168.0.0', dstLen: 26, table: 1000, protocol: 201, type: RTN.BLACKHOLE,
  }),
  'IPv4 multipath': routeMessage({
    family: 4, dst: '192.168.3.0', dstLen: 26, table: 254, protocol: 201, type: RTN.UNICAST,
    multipath: [
      { gateway: '10.1.0.2', ifindex: 3, flags: 0, weight: 1 },
      { gateway: '10.9.0.3', ifindex: 5, flags: RTNH_F.ONLINK, weight: 256 },
    ],
  }),
  'IPv4 via an IPv6 next hop (RTA_VIA)': routeMessage({
    family: 4, dst: '10.50.0.0', dstLen: 24, table: 254, protocol: 201, type: RTN.UNICAST,
    gateway: 'fe80::1', oif: 3,
  }),
  'IPv6 link-local next hop with its device': routeMessage({
    family: 6, dst: 'fd00:100::40', dstLen: 122, table: 254, protocol: 201, type: RTN.UNICAST,
    gateway: 'fe80::a8c1:abff:fe00:1', oif: 4, priority: 1024, prefsrc: 'fd00:1::1',
  }),
  'IPv6 multipath': routeMessage({
    family: 6, dst: 'fd00:100::80', dstLen: 122, table: 254, protocol: 201, type: RTN.UNICAST, priority: 1024,
    multipath: [
      { gateway: 'fd00:1::2', ifindex: 4, flags: 0, weight: 1 },
      { gateway: 'fd00:1::3', ifindex: 4, flags: 0, weight: 1 },
    ],
  }),
  'delete request': routeMessage({
    family: 4, dst: '10.64.0.0', dstLen: 26, table: 254, protocol: 201, scope: RT_SCOPE.NOWHERE,
  }),
};

for (const [name, route] of Object.entries(routes)) {
  test(`route round trip: ${name}`, (t) => {
    const bytes = encodeRoute(route);
    t.is(bytes.length % 4, 0);
    t.deepEqual(decodeRoute(bytes), route);
    t.deepEqual(encodeRoute(decodeRoute(bytes)), bytes, 're-encoding gives the same bytes');
  });
}

test('golden RTM_NEWROUTE payload: 192.168.1.0/26 via 10.1.0.2 proto 201 table main', (t) => {
  const bytes = encodeRoute(routeMessage({
    family: 4, dst: '192.168.1.0', dstLen: 26, table: 254, protocol: 201, type: RTN.UNICAST, gateway: '10.1.0.2',
  }));
  const golden = Buffer.from([
    // struct rtmsg
    0x02, // rtm_family AF_INET
    0x1a, // rtm_dst_len 26
    0x00, // rtm_src_len
    0x00, // rtm_tos
    0xfe, // rtm_table 254 (main)
    0xc9, // rtm_protocol 201
    0x00, // rtm_scope universe
    0x01, // rtm_type unicast
    0x00, 0x00, 0x00, 0x00, // rtm_flags
    // RTA_DST, len 8: 192.168.1.0
    0x08, 0x00, 0x01, 0x00, 0xc0, 0xa8, 0x01, 0x00,
    // RTA_GATEWAY, len 8: 10.1.0.2
    0x08, 0x00, 0x05, 0x00, 0x0a, 0x01, 0x00, 0x02,
    // RTA_TABLE, len 8: 254
    0x08, 0x00, 0x0f, 0x00, 0xfe, 0x00, 0x00, 0x00,
  ]);
  t.deepEqual(bytes, golden);
});

test('messages: split, header fields, padding', (t) => {
  const a = encodeMessage(RTM.NEWROUTE, NLM_F.REQUEST | NLM_F.CREATE, 7, Buffer.from([1, 2, 3]));
  const b = encodeMessage(NLMSG.DONE, NLM_F.MULTI, 8, Buffer.alloc(4));
  t.is(a.length, 20, '3 payload bytes padded to 4');
  const msgs = splitMessages(Buffer.concat([a, b]));
  t.is(msgs.length, 2);
  t.like(msgs[0], { type: RTM.NEWROUTE, flags: NLM_F.REQUEST | NLM_F.CREATE, seq: 7, pid: 0 });
  t.deepEqual([...msgs[0].payload], [1, 2, 3, 0]);
  t.like(msgs[1], { type: NLMSG.DONE, seq: 8 });
});

test('errors and acks, with the extended ack message', (t) => {
  const request = { type: RTM.NEWROUTE, flags: NLM_F.REQUEST, seq: 42 };
  const ack = decodeError(splitMessages(encodeError({ error: 0, request, message: '', offset: -1 }))[0]);
  t.deepEqual(ack, { error: 0, request, message: '', offset: -1 });
  const nack = decodeError(splitMessages(encodeError({ error: -101, request, message: 'Nexthop has invalid gateway', offset: -1 }))[0]);
  t.is(nack.error, -101);
  t.is(nack.message, 'Nexthop has invalid gateway');
  const err = NetlinkError.fromKernel('newroute', nack.error, nack.message);
  t.like(err, { code: 'ENETUNREACH', errno: 101, op: 'newroute', extack: 'Nexthop has invalid gateway' });
  t.regex(err.message, /^newroute: newroute failed: ENETUNREACH: Nexthop has invalid gateway$/);
  t.is(errnoName(17), 'EEXIST');
  t.is(errnoName(3), 'ESRCH');
  t.is(errnoName(19), 'ENODEV');
  t.is(errnoName(105), 'ENOBUFS');
});

test('links and addresses: round trips and the ipip RTM_NEWLINK request', (t) => {
  const link: LinkMessage = { index: 4, name: 'tunl0', flags: IFF.UP | IFF.RUNNING, operstate: 6, kind: 'ipip', mtu: 1480 };
  t.deepEqual(decodeLink(encodeLink(link)), link);
  const request = decodeLink(encodeNewLink('tunl0', 'ipip'));
  t.like(request, { index: 0, name: 'tunl0', kind: 'ipip', flags: IFF.UP });
  t.throws(() => encodeNewLink('a-very-long-interface-name', 'ipip'), { instanceOf: NetlinkError, message: /1 to 15 bytes/ });
  const addrs: AddressMessage[] = [
    { family: 4, prefixLen: 24, scope: 0, index: 3, address: '10.1.0.1', label: 'to-p' },
    { family: 6, prefixLen: 64, scope: 253, index: 3, address: 'fe80::1', label: '' },
  ];
  for (const a of addrs) t.deepEqual(decodeAddress(encodeAddress(a)), a);
});

test('malformed input: NetlinkError with a stable code, never another error', (t) => {
  const code = (fn: () => unknown): string => {
    try {
      fn();
    } catch (err) {
      if (!(err instanceof NetlinkError)) throw err;
      return err.code;
    }
    return 'OK';
  };
  t.is(code(() => decodeRoute(Buffer.alloc(11))), 'EPROTO');
  t.is(code(() => decodeRoute(Buffer.from([7, 0, 0, 0, 254, 0, 0, 1, 0, 0, 0, 0]))), 'EAFNOSUPPORT');
  t.is(code(() => splitMessages(Buffer.from([40, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]))), 'EPROTO');
  t.is(code(() => splitMessages(Buffer.from([4, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]))), 'EPROTO');
  t.is(code(() => forEachAttr(Buffer.from([2, 0, 1, 0]), () => undefined)), 'EPROTO');
  t.is(code(() => forEachAttr(Buffer.from([12, 0, 1, 0, 0, 0, 0, 0]), () => undefined)), 'EPROTO');
  const badDst = Buffer.concat([encodeRoute(routeMessage({ family: 4, dst: '', dstLen: 0 })).subarray(0, 12),
    Buffer.from([7, 0, RTA.DST, 0, 1, 2, 3, 0])]);
  t.is(code(() => decodeRoute(badDst)), 'EPROTO', 'a 3-byte address');
  t.is(code(() => writeAddress('10.1.0', Buffer.alloc(4), 0)), 'EINVAL');
  t.is(code(() => writeAddress('10.1.0.256', Buffer.alloc(4), 0)), 'EINVAL');
  t.is(code(() => writeAddress('10.1.0.1.5', Buffer.alloc(4), 0)), 'EINVAL');
  t.is(code(() => encodeRoute(routeMessage({ family: 4, dst: 'nonsense', dstLen: 8 }))), 'EINVAL');
  t.is(code(() => decodeError(splitMessages(encodeMessage(NLMSG.ERROR, 0, 1, Buffer.alloc(8)))[0])), 'EPROTO');
});

test('seeded mutations of every route sample decode or throw a NetlinkError', (t) => {
  let seed = 12345;
  const random = (): number => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed / 0x7fffffff;
  };
  const samples = Object.values(routes).map(encodeRoute);
  let decoded = 0;
  let rejected = 0;
  for (let i = 0; i < 20_000; i++) {
    const sample = Buffer.from(samples[i % samples.length]);
    const flips = 1 + Math.floor(random() * 4);
    for (let f = 0; f < flips; f++) sample[Math.floor(random() * sample.length)] = Math.floor(random() * 256);
    const cut = random() < 0.2 ? sample.subarray(0, Math.floor(random() * sample.length)) : sample;
    try {
      decodeRoute(cut);
      decoded++;
    } catch (err) {
      if (!(err instanceof NetlinkError)) t.fail(`case ${i}: ${String(err)} for ${cut.toString('hex')}`);
      rejected++;
    }
  }
  t.true(decoded > 0 && rejected > 0);
  t.is(AF.INET, 2);
});
