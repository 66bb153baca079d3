/** Connection collision resolution (RFC 4271 section 6.8, RFC 6286 section 2.3), table-driven in both orders. */

import test from 'ava';
import { collisionDump, collisionWinner } from '../../agent/session/collision.js';

const rows: { name: string; local: [string, number]; peer: [string, number]; want: 'out' | 'in' }[] = [
  { name: 'higher local identifier: ours survives', local: ['10.0.0.2', 65001], peer: ['10.0.0.1', 65002], want: 'out' },
  { name: 'identifiers compare unsigned', local: ['200.0.0.1', 65001], peer: ['9.255.255.255', 65002], want: 'out' },
  { name: 'the identifier decides before the AS', local: ['10.0.0.2', 65001], peer: ['10.0.0.1', 4200000000], want: 'out' },
  // RFC 6286 section 2.3: identical identifiers, the larger AS's connection is preserved.
  { name: 'equal identifiers, larger local AS', local: ['10.0.0.1', 65002], peer: ['10.0.0.1', 65001], want: 'out' },
  { name: 'equal identifiers, 4-octet local AS', local: ['10.0.0.1', 4200000101], peer: ['10.0.0.1', 65100], want: 'out' },
];

const flip = (d: 'out' | 'in'): 'out' | 'in' => (d === 'out' ? 'in' : 'out');

for (const r of rows) {
  test(`collisionWinner: ${r.name}`, (t) => {
    const local = { id: r.local[0], asn: r.local[1] };
    const peer = { id: r.peer[0], asn: r.peer[1] };
    t.is(collisionWinner(local, peer), r.want);
    // The other side of the same collision must keep the same TCP connection.
    t.is(collisionWinner(peer, local), flip(r.want));
  });
}

/** The verdict the FSM gets (OpenCollisionDump): which connection is dumped, by who initiated each. */
const dumpRows: { name: string; winner: 'out' | 'in'; main: 'out' | 'in'; second: 'out' | 'in'; want: 'main' | 'second' }[] = [
  { name: 'ours wins, the session\'s connection is ours: the peer\'s second one goes', winner: 'out', main: 'out', second: 'in', want: 'second' },
  { name: 'ours wins, the second connection is ours: the session\'s goes', winner: 'out', main: 'in', second: 'out', want: 'main' },
  { name: 'the peer wins, the second connection is its: the session\'s goes', winner: 'in', main: 'out', second: 'in', want: 'main' },
  { name: 'the peer wins, the session\'s connection is its: our second one goes', winner: 'in', main: 'in', second: 'out', want: 'second' },
  { name: 'two incoming connections: the peer gave up on the older one', winner: 'out', main: 'in', second: 'in', want: 'main' },
  { name: 'two incoming connections, the peer winning: the same', winner: 'in', main: 'in', second: 'in', want: 'main' },
];

for (const r of dumpRows) {
  test(`collisionDump: ${r.name}`, (t) => {
    const [local, peer] = r.winner === 'out'
      ? [{ id: '10.0.0.2', asn: 65001 }, { id: '10.0.0.1', asn: 65002 }]
      : [{ id: '10.0.0.1', asn: 65001 }, { id: '10.0.0.2', asn: 65002 }];
    t.is(collisionWinner(local, peer), r.winner);
    t.is(collisionDump(local, peer, r.main, r.second), r.want);
  });
}
