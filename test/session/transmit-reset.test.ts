/**
 * Issue 19 item 1: the Transmitter starts from nothing on every connection. A connection that ends
 * while the transmitter waits for its 'drain' (a peer that stopped reading, then died: it never
 * drains) must not hold back the next Established session on the peer, and nothing armed for the
 * old connection (its 'drain' listener, a pending setImmediate) may act once the new one is
 * attached. The old transmitter kept `waitingDrain` across clear(), so the next session got its
 * KEEPALIVEs (written by the session) but never an UPDATE or End-of-RIB.
 * Issue 21: the same with an update group's shared items, and a second member of the group gets the
 * whole first table while the first is frozen (each member has its own cursor into the item).
 */

import test from 'ava';
import { EventEmitter } from 'node:events';
import { DEFAULT_CONTEXT } from '../../agent/bgp/context.js';
import { decodeMessage } from '../../agent/bgp/message.js';
import type { Prefix } from '../../agent/bgp/prefix.js';
import { endOfRibFamily } from '../../agent/bgp/update.js';
import type { Connection } from '../../agent/session/connection.js';
import { Transmitter } from '../../agent/session/transmit.js';
import { waitFor } from '../helpers/netns.js';
import type { OutboundItem } from '../../agent/contracts/engines.js';

/** A Connection stand-in whose socket holds `waiting` bytes until the test says otherwise. */
class FakeConn {
  readonly socket = new EventEmitter();
  cork(): void {}
  uncork(): void {}
  readonly written: Uint8Array[] = [];
  closed = false;
  waiting = 0;
  /** Every write leaves this many bytes waiting: a peer that stopped reading. */
  fillOnWrite = 0;
  get writableLength(): number {
    return this.waiting;
  }
  write(bytes: Uint8Array): boolean {
    if (this.closed) return false;
    this.written.push(bytes);
    this.waiting += this.fillOnWrite;
    return true;
  }
}

const ATTRS = { origin: 0, asPath: [], localPref: 100, nextHop: '10.0.0.1' } as const;
const prefixes = (n: number): Prefix[] => Array.from({ length: n }, (_, i) => ({ afi: 1, len: 26, addr: ((10 << 24) | (64 << 16)) + i * 64 }) as Prefix);
const table = (n: number): OutboundItem => ({ kind: 'update', update: { announce: [{ attributes: ATTRS, prefixes: prefixes(n) }] } });
/** The same table as an update group's shared item (packed once for every member). */
const sharedTable = (n: number): OutboundItem => ({ kind: 'shared', parts: [{ update: { announce: [{ attributes: ATTRS, prefixes: prefixes(n) }] } }] });
const EOR: OutboundItem = { kind: 'end-of-rib', family: 'ipv4' };

/** Prefixes announced and End-of-RIBs seen in what a connection got (a write may hold several messages). */
function summary(conn: FakeConn): { prefixes: number; endOfRib: number } {
  let n = 0;
  let eor = 0;
  const all = Buffer.concat(conn.written);
  for (let at = 0; at < all.length;) {
    const len = all.readUInt16BE(at + 16);
    const m = decodeMessage(all.subarray(at, at + len));
    at += len;
    if (m.type !== 'update') continue;
    if (endOfRibFamily(m)) eor++;
    else n += m.nlri.length;
  }
  return { prefixes: n, endOfRib: eor };
}

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

interface Row {
  readonly name: string;
  /** What happens to the old connection between the stall and the new attach. */
  readonly between: (tx: Transmitter, old: FakeConn) => void;
  /** After the new attach, before the new feed: the old connection's late events. */
  readonly after?: (old: FakeConn) => void;
}

const rows: readonly Row[] = [
  { name: 'the session goes down (clear) and the old socket never drains', between: (tx, old) => { old.closed = true; tx.clear(); } },
  { name: 'the next session attaches without a clear in between', between: () => undefined },
  {
    name: 'the dead socket emits a late drain after the new attach: nothing more is written on it',
    between: (tx, old) => { old.closed = true; tx.clear(); },
    after: (old) => { old.waiting = 0; old.closed = false; old.socket.emit('drain'); },
  },
];

for (const [shape, make] of [['update', table], ['shared', sharedTable]] as const) for (const row of rows) {
  test(`transmitter reset (${shape}): ${row.name}; the next connection gets the whole table and End-of-RIB`, async (t) => {
    const tx = new Transmitter({ peer: 'a', sent: () => undefined, failed: (err) => t.fail(String(err)) }, 5, 1000);
    const old = new FakeConn();
    tx.attach(old as unknown as Connection, DEFAULT_CONTEXT);
    // Another member of the same group, reading: it gets the whole first table whatever `a` does.
    const other = new Transmitter({ peer: 'b', sent: () => undefined, failed: (err) => t.fail(String(err)) }, 5, 1000);
    const otherConn = new FakeConn();
    other.attach(otherConn as unknown as Connection, DEFAULT_CONTEXT);
    // The first slice goes out, then the socket stays over the high-water mark: a frozen peer.
    old.fillOnWrite = 1 << 20;
    const first = make(5000);
    tx.push(first);
    tx.push(EOR);
    other.push(first);
    other.push(EOR);
    await waitFor(() => old.written.length > 0 && tx.backlog > 0, { timeoutMs: 5000, what: 'the transmitter to stall' });
    await waitFor(() => summary(otherConn).endOfRib === 1, { timeoutMs: 5000, what: 'the other member\'s End-of-RIB' });
    t.deepEqual(summary(otherConn), { prefixes: 5000, endOfRib: 1 }, 'a frozen member holds nobody back');
    for (let i = 0; i < 5; i++) await turn();
    const stalledAt = old.written.length;
    t.true(tx.backlog > 0, 'stalled with items queued');

    row.between(tx, old);
    const next = new FakeConn();
    tx.attach(next as unknown as Connection, DEFAULT_CONTEXT);
    row.after?.(old);
    tx.push(make(5000));
    tx.push(EOR);
    await waitFor(() => summary(next).endOfRib === 1, { timeoutMs: 5000, what: 'End-of-RIB on the next connection' });
    t.deepEqual(summary(next), { prefixes: 5000, endOfRib: 1 });
    for (let i = 0; i < 5; i++) await turn();
    t.is(old.written.length, stalledAt, 'nothing written on the old connection after the stall');
    t.is(tx.backlog, 0);
  });
}

test('transmitter reset: a setImmediate armed for the old connection does not flush on the new one out of order', async (t) => {
  const tx = new Transmitter({ sent: () => undefined, failed: (err) => t.fail(String(err)) }, 5, 1000);
  const old = new FakeConn();
  tx.attach(old as unknown as Connection, DEFAULT_CONTEXT);
  tx.push(table(10)); // schedules a flush on a later turn
  old.closed = true;
  tx.clear();
  const next = new FakeConn();
  next.waiting = 1 << 20; // the new connection is full: nothing may be written until it drains
  tx.attach(next as unknown as Connection, DEFAULT_CONTEXT);
  tx.push(EOR);
  for (let i = 0; i < 5; i++) await turn();
  t.is(old.written.length, 0);
  t.is(next.written.length, 0, 'the new connection over its high-water mark got nothing');
  next.waiting = 0;
  next.socket.emit('drain');
  await waitFor(() => next.written.length === 1, { timeoutMs: 5000, what: 'the End-of-RIB after the drain' });
  t.deepEqual(summary(next), { prefixes: 0, endOfRib: 1 });
});
