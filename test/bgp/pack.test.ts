/** Packing: full messages, grouped attributes, both families, add-path, End-of-RIB. */

import test from 'ava';
import {
  contextWith,
  decodeMessage,
  DEFAULT_CONTEXT,
  encodeMessage,
  endOfRib,
  endOfRibFamily,
  formatPrefix,
  packUpdates,
  parsePrefix,
  type Prefix,
  type UpdateMessage,
} from '../../agent/bgp/index.js';

const attrs = { origin: 0 as const, asPath: [{ type: 'sequence' as const, asns: [65101] }], nextHop: '10.0.1.13' };
const v6attrs = { origin: 0 as const, asPath: [], mpReach: { afi: 2, safi: 1, nextHops: ['fd00::13', 'fe80::13'], nlri: [] } };

function blocks(n: number, base = 0x0a000000): Prefix[] {
  return Array.from({ length: n }, (_, i) => ({ afi: 1 as const, len: 26, addr: (base + i * 64) >>> 0 }));
}
function blocks6(n: number): Prefix[] {
  return Array.from({ length: n }, (_, i) => parsePrefix(`fd00:${(i >> 16).toString(16)}:${(i & 0xffff).toString(16)}::/122`));
}

function allPrefixes(msgs: Uint8Array[], ctx = DEFAULT_CONTEXT): { nlri: string[]; withdrawn: string[]; sizes: number[] } {
  const nlri: string[] = [];
  const withdrawn: string[] = [];
  for (const m of msgs) {
    const u = decodeMessage(m, ctx) as UpdateMessage;
    t_noErrors(u);
    nlri.push(...u.nlri.map(formatPrefix), ...(u.attributes.mpReach?.nlri ?? []).map(formatPrefix));
    withdrawn.push(...u.withdrawn.map(formatPrefix), ...(u.attributes.mpUnreach?.withdrawn ?? []).map(formatPrefix));
  }
  return { nlri, withdrawn, sizes: msgs.map((m) => m.length) };
}
function t_noErrors(u: UpdateMessage): void {
  if (u.errors) throw new Error(u.errors.map((e) => e.message).join('; '));
}

const table: { name: string; family: 4 | 6; n: number; ctx: Parameters<typeof contextWith>[0]; perMessage: number }[] = [
  // 4096 - 23 - 24 bytes of attributes = 4049 bytes for NLRI; a /26 takes 5 bytes: 809 per message.
  { name: 'IPv4 /26 at 4096 bytes', family: 4, n: 2000, ctx: {}, perMessage: 809 },
  // with add-path, 9 bytes each: 449.
  { name: 'IPv4 /26 with add-path', family: 4, n: 1000, ctx: { addPathIpv4: true }, perMessage: 449 },
  // 65535 - 23 - 24 = 65488 bytes: 13097 per message.
  { name: 'IPv4 /26 with extended messages', family: 4, n: 20000, ctx: { maxLength: 65535 }, perMessage: 13097 },
  // IPv6 /122: 1 + 16 bytes; room = 4096 - 23 - 4 (MP header) - 5 - 32 (next hops) - 7 (ORIGIN, empty AS_PATH) = 4025: 236.
  { name: 'IPv6 /122 at 4096 bytes', family: 6, n: 500, ctx: {}, perMessage: 236 },
];

for (const row of table) {
  test(`pack: ${row.name}`, (t) => {
    const ctx = contextWith(row.ctx);
    const plain = row.family === 4 ? blocks(row.n) : blocks6(row.n);
    const prefixes = ctx.addPathIpv4 ? plain.map((p, i) => ({ ...p, pathId: i + 1 })) : plain;
    const msgs = packUpdates({ announce: [{ attributes: row.family === 4 ? attrs : v6attrs, prefixes }] }, ctx);
    const got = allPrefixes(msgs, ctx);
    t.deepEqual(got.nlri, prefixes.map(formatPrefix), 'every prefix once, in order');
    t.is(msgs.length, Math.ceil(row.n / row.perMessage));
    t.true(got.sizes.slice(0, -1).every((s) => s <= ctx.maxLength && s > ctx.maxLength - (row.family === 4 ? 9 : 17)), `full messages: ${got.sizes.join(',')}`);
  });
}

test('pack: withdrawals of both families, and two attribute groups', (t) => {
  const w4 = blocks(1000, 0xc0a80000);
  const w6 = blocks6(300);
  const g1 = blocks(10);
  const g2 = blocks(10, 0x0b000000);
  const msgs = packUpdates({
    withdraw: [...w4, ...w6],
    announce: [
      { attributes: attrs, prefixes: g1 },
      { attributes: { ...attrs, med: 10 }, prefixes: g2 },
    ],
  });
  const got = allPrefixes(msgs);
  t.deepEqual(got.withdrawn, [...w4, ...w6].map(formatPrefix));
  t.deepEqual(got.nlri, [...g1, ...g2].map(formatPrefix));
  const meds = msgs.map((m) => (decodeMessage(m) as UpdateMessage).attributes.med).filter((x) => x !== undefined);
  t.deepEqual(meds, [10]);
});

test('End-of-RIB markers for both families are recognised', (t) => {
  for (const afi of [1, 2]) {
    const u = decodeMessage(encodeMessage(endOfRib(afi))) as UpdateMessage;
    t.deepEqual(endOfRibFamily(u), { afi, safi: 1 });
  }
  t.is(encodeMessage(endOfRib(1)).length, 23);
  const notEor = decodeMessage(packUpdates({ withdraw: blocks(1) })[0]) as UpdateMessage;
  t.is(endOfRibFamily(notEor), undefined);
});

test('pack refuses attributes that leave no room for a prefix', (t) => {
  const huge = { ...attrs, communities: Array.from({ length: 1100 }, (_, i) => i) };
  t.throws(() => packUpdates({ announce: [{ attributes: huge, prefixes: blocks(1) }] }), { message: /no room/ });
});

test('a frozen attribute set is encoded once per context: a 2-octet peer still gets AS_TRANS, a mutable set is never cached', (t) => {
  const wide = Object.freeze({ origin: 0 as const, asPath: [{ type: 'sequence' as const, asns: [4200000001] }], nextHop: '10.0.1.13',
    mpReach: { afi: 2, safi: 1, nextHops: ['fd00::13'], nlri: [] } });
  const input = { announce: [{ attributes: wide, prefixes: [...blocks(2), ...blocks6(1)] }] };
  const two = contextWith({ fourOctetAs: false });
  for (const round of [1, 2]) {
    const four = packUpdates(input).map((m) => decodeMessage(m) as UpdateMessage);
    t.deepEqual(four[0].attributes.asPath, [{ type: 'sequence', asns: [4200000001] }], `4-octet, round ${round}`);
    t.deepEqual(four[1].attributes.mpReach?.nextHops, ['fd00::13'], `MP next hop, round ${round}`);
    const old = packUpdates(input, two).map((m) => decodeMessage(m, two) as UpdateMessage);
    t.deepEqual(old[0].attributes.asPath, [{ type: 'sequence', asns: [23456] }], `2-octet: AS_TRANS, round ${round}`);
    t.deepEqual(old[0].attributes.as4Path, [{ type: 'sequence', asns: [4200000001] }], `2-octet: AS4_PATH, round ${round}`);
  }
  const mutable = { origin: 0 as const, asPath: [], nextHop: '10.0.1.13' };
  const first = decodeMessage(packUpdates({ announce: [{ attributes: mutable, prefixes: blocks(1) }] })[0]) as UpdateMessage;
  mutable.nextHop = '10.0.1.99';
  const second = decodeMessage(packUpdates({ announce: [{ attributes: mutable, prefixes: blocks(1) }] })[0]) as UpdateMessage;
  t.is(first.attributes.nextHop, '10.0.1.13');
  t.is(second.attributes.nextHop, '10.0.1.99');
});
