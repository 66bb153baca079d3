/** RFC 6793 section 4.2.3 (merge) and 4.2.2 (split), table-driven. */

import test from 'ava';
import { AS_TRANS, asPathLength, mergeAs4, splitAs4, type AsPathSegment } from '../../agent/bgp/index.js';

const seq = (...asns: number[]): AsPathSegment => ({ type: 'sequence', asns });
const set = (...asns: number[]): AsPathSegment => ({ type: 'set', asns });

const merges: { name: string; asPath: AsPathSegment[]; as4Path?: AsPathSegment[]; aggregator?: { asn: number; address: string }; as4Aggregator?: { asn: number; address: string }; want: AsPathSegment[]; wantAggregator?: number }[] = [
  { name: 'AS_TRANS replaced by the real ASes', asPath: [seq(65001, AS_TRANS, AS_TRANS)], as4Path: [seq(4200000100, 4200000101)], want: [seq(65001), seq(4200000100, 4200000101)] },
  { name: 'AS4_PATH longer than AS_PATH is ignored', asPath: [seq(AS_TRANS)], as4Path: [seq(1, 2)], want: [seq(AS_TRANS)] },
  { name: 'an AS_SET counts one', asPath: [seq(65001), set(AS_TRANS, 3)], as4Path: [set(4200000100, 3)], want: [seq(65001), set(4200000100, 3)] },
  { name: 'equal lengths: AS4_PATH wins', asPath: [seq(AS_TRANS, 65002)], as4Path: [seq(4200000100, 65002)], want: [seq(4200000100, 65002)] },
  { name: 'confederation segments stay in front', asPath: [{ type: 'confed-sequence', asns: [64512] }, seq(65001, AS_TRANS)], as4Path: [seq(4200000100)], want: [{ type: 'confed-sequence', asns: [64512] }, seq(65001), seq(4200000100)] },
  { name: 'AGGREGATOR with a real AS: AS4_* ignored', asPath: [seq(AS_TRANS)], as4Path: [seq(4200000100)], aggregator: { asn: 65001, address: '1.1.1.1' }, as4Aggregator: { asn: 4200000100, address: '1.1.1.1' }, want: [seq(AS_TRANS)], wantAggregator: 65001 },
  { name: 'AGGREGATOR AS_TRANS: AS4_AGGREGATOR used', asPath: [seq(AS_TRANS)], as4Path: [seq(4200000100)], aggregator: { asn: AS_TRANS, address: '1.1.1.1' }, as4Aggregator: { asn: 4200000100, address: '1.1.1.1' }, want: [seq(4200000100)], wantAggregator: 4200000100 },
];

for (const m of merges) {
  test(`mergeAs4: ${m.name}`, (t) => {
    const out = mergeAs4({ asPath: m.asPath, as4Path: m.as4Path, aggregator: m.aggregator, as4Aggregator: m.as4Aggregator }, false);
    t.deepEqual(out.asPath, m.want);
    t.is(out.as4Path, undefined);
    t.is(out.as4Aggregator, undefined);
    t.is(out.aggregator?.asn, m.wantAggregator);
  });
}

test('mergeAs4 on a 4-octet session drops AS4_* and keeps AS_PATH', (t) => {
  const out = mergeAs4({ asPath: [seq(4200000100)], as4Path: [seq(1)] }, true);
  t.deepEqual(out, { asPath: [seq(4200000100)] });
});

test('splitAs4 then mergeAs4 gives back the real path', (t) => {
  const real = { asPath: [seq(4200000100, 65001), set(4200000101, 7)], aggregator: { asn: 4200000100, address: '10.0.0.1' } };
  const wire = splitAs4(real);
  t.deepEqual(wire.asPath, [seq(AS_TRANS, 65001), set(AS_TRANS, 7)]);
  t.is(wire.aggregator?.asn, AS_TRANS);
  t.deepEqual(mergeAs4(wire, false), real);
});

test('splitAs4 leaves 2-octet paths alone', (t) => {
  t.deepEqual(splitAs4({ asPath: [seq(65001)] }), { asPath: [seq(65001)] });
});

test('asPathLength: set counts 1, confederation 0', (t) => {
  t.is(asPathLength([seq(1, 2, 3), set(4, 5), { type: 'confed-sequence', asns: [6, 7] }]), 4);
});
