/**
 * Issue 21: write spacing. With thousands of peers, new outbound work waits until `spacing` after
 * the last flush began, so what several turns produced leaves in one corked write; the first write
 * after a quiet spell is immediate, and a flush cut short by its budget carries on at the next turn
 * (a big feed is never slowed to one slice per spacing). writeSpacing: none below 64 peers.
 */
import test from 'ava';
import { DEFAULT_CONTEXT } from '../../agent/bgp/context.js';
import type { Prefix } from '../../agent/bgp/prefix.js';
import type { OutboundItem } from '../../agent/contracts/engines.js';
import { FakeConn } from './fake-conn.js';
import { Transmitter, writeSpacing } from '../../agent/session/transmit.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { holdsFor, waitFor } from '../helpers/netns.js';

const attributes = { origin: 0, asPath: [], localPref: 100, nextHop: '10.0.0.1' } as const;
const prefixes = (from: number, n: number): Prefix[] => Array.from({ length: n }, (_, i) => ({ afi: 1, len: 26, addr: ((10 << 24) + (from + i) * 64) >>> 0 }) as Prefix);
const update = (from: number, n = 1): OutboundItem => ({ kind: 'update', update: { announce: [{ attributes, prefixes: prefixes(from, n) }] } });

function setup(spacing: number, budgetMs = 5) {
  const clock = new FakeClock();
  const conn = new FakeConn();
  const tx = new Transmitter({ sent: () => undefined, failed: (err) => { throw err; } }, budgetMs, 1 << 20, () => spacing, clock);
  tx.attach(conn.conn, DEFAULT_CONTEXT);
  return { clock, conn, tx };
}

test('writeSpacing: none for a node with few peers, 0.1 ms a peer, at most 200 ms', (t) => {
  t.is(writeSpacing(2), 0);
  t.is(writeSpacing(63), 0);
  t.is(writeSpacing(1000), 100);
  t.is(writeSpacing(5000), 200);
});

test('the first write is immediate; work arriving within the spacing waits and leaves in one flush', async (t) => {
  const { clock, conn, tx } = setup(10_000);
  tx.push(update(1));
  await waitFor(() => tx.backlog === 0, { timeoutMs: 2000, intervalMs: 1, what: 'the first write' });
  t.is(conn.corks, 1);
  tx.push(update(2));
  tx.push(update(3));
  await holdsFor(() => tx.backlog === 2, { forMs: 100, intervalMs: 5, what: 'held for the spacing' });
  t.is(conn.corks, 1);
  clock.advance(10_000);
  await waitFor(() => tx.backlog === 0, { timeoutMs: 2000, intervalMs: 1, what: 'the spaced flush' });
  t.is(conn.corks, 2, 'both in one flush');
  t.is(conn.written.length, 3);
});

test('a flush cut short by its budget carries on at the next turn, not after the spacing', async (t) => {
  const { conn, tx } = setup(10_000, 0);
  tx.push(update(0, 20_000)); // about ten slices, one per turn with a zero budget
  await waitFor(() => tx.backlog === 0, { timeoutMs: 5000, intervalMs: 1, what: 'every slice without the clock moving' });
  t.true(conn.corks > 1);
});

test('no spacing: every push is written at the next turn', async (t) => {
  const { conn, tx } = setup(0);
  for (let i = 0; i < 3; i++) {
    tx.push(update(i));
    await waitFor(() => tx.backlog === 0, { timeoutMs: 2000, intervalMs: 1, what: `write ${i}` });
  }
  t.is(conn.corks, 3);
});
