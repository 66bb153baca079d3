/**
 * The neighbour table of BGP unnumbered (link-neighbours.ts), table-driven: which address heard on a
 * link becomes the interface peer, and the ND messages (nd-socket.ts codec) the agent sends and
 * recognises (RFC 4861 sections 4.1, 4.2).
 */
import test from 'ava';
import { type HeardFrom, isLinkLocal, LinkNeighbours } from '../../agent/peers/link-neighbours.js';
import { ND, ndType, routerAdvertisement, routerSolicitation } from '../../agent/peers/nd-socket.js';

interface Step {
  readonly heard?: [string, HeardFrom];
  readonly forget?: true;
  readonly established?: boolean;
  /** Expected: whether the table changed, and the peer afterwards ('' none). */
  readonly changed: boolean;
  readonly peer: string;
}

const rows: { name: string; steps: Step[] }[] = [
  { name: 'the first neighbour heard is the peer', steps: [{ heard: ['fe80::1', 'neighbour discovery'], changed: true, peer: 'fe80::1' }] },
  { name: 'the zone and case do not matter; the same again changes nothing', steps: [
    { heard: ['FE80::A%eth0', 'connection'], changed: true, peer: 'fe80::a' },
    { heard: ['fe80::a', 'router advertisement'], changed: false, peer: 'fe80::a' }] },
  { name: 'not link-local, unspecified, or our own address: ignored', steps: [
    { heard: ['fd00::1', 'router advertisement'], changed: false, peer: '' },
    { heard: ['::', 'neighbour discovery'], changed: false, peer: '' },
    { heard: ['fe80::99', 'neighbour discovery'], changed: false, peer: '' }] },
  { name: 'an RA outranks a solicitation while not Established', steps: [
    { heard: ['fe80::1', 'neighbour discovery'], changed: true, peer: 'fe80::1' },
    { heard: ['fe80::2', 'router advertisement'], changed: true, peer: 'fe80::2' },
    { heard: ['fe80::3', 'neighbour discovery'], changed: false, peer: 'fe80::2' },
    { heard: ['fe80::4', 'connection'], changed: true, peer: 'fe80::4' }] },
  { name: 'while Established nobody replaces the neighbour', steps: [
    { heard: ['fe80::1', 'router advertisement'], changed: true, peer: 'fe80::1' },
    { heard: ['fe80::2', 'router advertisement'], established: true, changed: false, peer: 'fe80::1' },
    { heard: ['fe80::2', 'connection'], established: true, changed: false, peer: 'fe80::1' }] },
  { name: 'link down forgets; the next one heard is the peer', steps: [
    { heard: ['fe80::1', 'router advertisement'], changed: true, peer: 'fe80::1' },
    { forget: true, changed: true, peer: '' },
    { forget: true, changed: false, peer: '' },
    { heard: ['fe80::2', 'neighbour discovery'], changed: true, peer: 'fe80::2' }] },
];

for (const row of rows) {
  test(`neighbour table: ${row.name}`, (t) => {
    let established = false;
    const table = new LinkNeighbours({ localLinkLocal: () => 'fe80::99', established: () => established, now: () => 1000 });
    row.steps.forEach((s, i) => {
      established = s.established ?? false;
      const changed = s.forget ? table.forget('eth0') : table.heard('eth0', s.heard![0], s.heard![1]);
      t.is(changed, s.changed, `step ${i}: changed`);
      t.is(table.entry('eth0')?.peer ?? '', s.peer, `step ${i}: peer`);
    });
    if (table.entry('eth0')) t.deepEqual(table.snapshot().get('eth0'), { peer: table.entry('eth0')!.peer, local: 'fe80::99' });
  });
}

test('neighbour table: no link-local address of ours yet, nothing is recorded', (t) => {
  const table = new LinkNeighbours({ localLinkLocal: () => '', established: () => false, now: () => 0 });
  t.false(table.heard('eth0', 'fe80::1', 'router advertisement'));
  t.is(table.snapshot().size, 0);
});

test('isLinkLocal: fe80::/10 only', (t) => {
  for (const a of ['fe80::1', 'FE80::1%eth0', 'febf::1', 'fe90::1']) t.true(isLinkLocal(a), a);
  for (const a of ['fec0::1', 'fd00::1', '::', '10.0.0.1', 'fe8::1']) t.false(isLinkLocal(a), a);
});

test('ND codec: RS and RA bytes (RFC 4861 4.1, 4.2), router lifetime 0, source link-layer option', (t) => {
  t.deepEqual([...routerSolicitation()], [133, 0, 0, 0, 0, 0, 0, 0]);
  const ra = routerAdvertisement('02:00:5e:10:00:01');
  t.is(ra.length, 24);
  t.deepEqual([...ra.subarray(0, 16)], [134, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], 'lifetime, reachable and retrans all 0');
  t.deepEqual([...ra.subarray(16)], [1, 1, 0x02, 0x00, 0x5e, 0x10, 0x00, 0x01]);
  t.is(routerAdvertisement('').length, 16, 'no MAC: no option');
  t.is(routerAdvertisement('00:00:00:00:00:00').length, 16, 'an all-zero MAC (a tunnel) is no link-layer address');
  const msg = (type: number, code = 0, len = 8): Buffer => Buffer.from([type, code, ...new Array(len - 2).fill(0)]);
  t.is(ndType(msg(134)), ND.RA);
  t.is(ndType(msg(135, 0, 24)), ND.NS);
  t.is(ndType(msg(136, 0, 24)), ND.NA);
  t.is(ndType(msg(133)), ND.RS);
  t.is(ndType(msg(134, 1)), undefined, 'a non-zero code is not ND (RFC 4861 6.1.2)');
  t.is(ndType(msg(128)), undefined, 'echo request');
  t.is(ndType(Buffer.from([134, 0, 0])), undefined, 'too short');
});
