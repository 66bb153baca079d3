/**
 * Issue 21: a shared update (an update group's) is packed once and each member is written its own
 * parts: everything but the parts `except` it, and the parts `only` for it. Checked by decoding
 * what each member's transmitter wrote and comparing with outboundFor (the RIB's view of what the
 * member should get), over blocks small enough that parts straddle them; the bytes written are
 * views of the one packed buffer (no copy per member), and a second member packs nothing again.
 */

import test from 'ava';
import { contextWith, DEFAULT_CONTEXT } from '../../agent/bgp/context.js';
import { decodeMessage } from '../../agent/bgp/message.js';
import { formatPrefix, type Prefix } from '../../agent/bgp/prefix.js';
import { outboundFor, type OutboundPart, type SharedUpdate } from '../../agent/contracts/engines.js';
import { FakeConn } from './fake-conn.js';
import { packingOf, SharedPacking, skippedBy } from '../../agent/session/shared-pack.js';
import { Transmitter } from '../../agent/session/transmit.js';
import { waitFor } from '../helpers/netns.js';

const v4 = (i: number): Prefix => ({ afi: 1, len: 26, addr: (((10 << 24) | (64 << 16)) + i * 64) >>> 0 }) as Prefix;
const attrs = (nh: string) => ({ origin: 0, asPath: [], localPref: 100, nextHop: nh }) as const;
const announce = (nh: string, ...ids: number[]) => ({ announce: [{ attributes: attrs(nh), prefixes: ids.map(v4) }] });

/** Words (`+prefix`, `-prefix`) of a byte stream of UPDATEs, sorted (order across parts is free). */
function words(chunks: readonly Uint8Array[]): string[] {
  const all = Buffer.concat(chunks);
  const out: string[] = [];
  for (let at = 0; at < all.length;) {
    const len = all.readUInt16BE(at + 16);
    const m = decodeMessage(all.subarray(at, at + len));
    at += len;
    if (m.type !== 'update') continue;
    for (const p of m.withdrawn) out.push(`-${formatPrefix(p)}`);
    for (const p of m.nlri) out.push(`+${formatPrefix(p)}`);
  }
  return out.sort();
}

function expected(item: SharedUpdate, peer: string): string[] {
  const u = outboundFor(item, peer);
  return [...(u.withdraw ?? []).map((p) => `-${formatPrefix(p)}`), ...(u.announce ?? []).flatMap((g) => g.prefixes.map((p) => `+${formatPrefix(p)}`))].sort();
}

const CASES: { name: string; parts: OutboundPart[]; members: string[] }[] = [
  { name: 'one part for everyone', parts: [{ update: announce('10.0.0.1', 1, 2, 3) }], members: ['a', 'b'] },
  {
    name: 'a part not for its source',
    parts: [{ update: announce('10.0.0.1', 1) }, { except: 'a', update: announce('10.0.0.2', 2, 3) }],
    members: ['a', 'b', 'c'],
  },
  {
    name: 'a withdrawal only for one member, beside parts except two others',
    parts: [{ except: 'a', update: announce('10.0.0.2', 2) }, { only: 'b', update: { withdraw: [v4(2)] } }, { except: 'c', update: announce('10.0.0.3', 3) }],
    members: ['a', 'b', 'c', 'd'],
  },
  {
    name: 'a part for nobody but its only member, and nothing else',
    parts: [{ only: 'b', update: announce('10.0.0.9', 9) }],
    members: ['a', 'b'],
  },
  {
    name: 'a reflector: 300 sources, each part except its source',
    parts: Array.from({ length: 300 }, (_, i) => ({ except: `c${i}`, update: announce(`10.1.${i >> 8}.${i & 255}`, 2 * i, 2 * i + 1) })),
    members: ['c0', 'c7', 'c299', 'other'],
  },
];

for (const c of CASES) {
  test(`each member gets its own parts: ${c.name}`, async (t) => {
    const item: SharedUpdate = { kind: 'shared', parts: c.parts };
    for (const peer of c.members) {
      const conn = new FakeConn();
      const sent: number[] = [];
      const tx = new Transmitter({ peer, sent: (_type, n = 1) => void sent.push(n), failed: (err) => t.fail(String(err)) });
      tx.attach(conn.conn, DEFAULT_CONTEXT);
      tx.push(item);
      await waitFor(() => tx.backlog === 0, { timeoutMs: 5000, intervalMs: 1, what: 'the transmitter to write the item' });
      t.deepEqual(words(conn.written), expected(item, peer), peer);
      t.is(sent.reduce((a, b) => a + b, 0), countMessages(conn.written), `${peer}: messages counted as written`);
      const pieces = packingOf(item, DEFAULT_CONTEXT).blocks.reduce((n, b) => n + skippedBy(b, peer).length + 1, 0);
      t.true(conn.written.length <= pieces, `${peer}: a write per piece between cuts, not per message`);
    }
  });
}

function countMessages(chunks: readonly Uint8Array[]): number {
  const all = Buffer.concat(chunks);
  let n = 0;
  for (let at = 0; at < all.length; at += all.readUInt16BE(at + 16)) n++;
  return n;
}

test('small blocks: parts straddle blocks, every member still gets exactly its parts', (t) => {
  const parts: OutboundPart[] = Array.from({ length: 40 }, (_, i) => (i % 5 === 0
    ? { only: `m${i % 3}`, update: { withdraw: [v4(1000 + i)] } }
    : { except: `m${i % 3}`, update: announce(`10.2.0.${i}`, 3 * i, 3 * i + 1, 3 * i + 2) }));
  const item: SharedUpdate = { kind: 'shared', parts };
  const packing = new SharedPacking(item, DEFAULT_CONTEXT, 4);
  for (let i = 0; packing.block(i) !== undefined; i++);
  t.true(packing.blocks.length > 10);
  for (const peer of ['m0', 'm1', 'm2', 'x']) {
    const chunks: Uint8Array[] = [];
    for (const block of packing.blocks) {
      let at = 0;
      for (const cut of skippedBy(block, peer)) {
        if (cut.start > at) chunks.push(block.bytes.subarray(at, cut.start));
        at = Math.max(at, cut.end);
      }
      chunks.push(block.bytes.subarray(at));
    }
    t.deepEqual(words(chunks), expected(item, peer), peer);
  }
});

test('packed once per encode context: members share the packing and its bytes', async (t) => {
  const item: SharedUpdate = { kind: 'shared', parts: [{ update: announce('10.0.0.1', 1, 2) }, { except: 'a', update: announce('10.0.0.2', 3) }] };
  const ctx = contextWith({});
  t.is(packingOf(item, DEFAULT_CONTEXT), packingOf(item, ctx), 'equal contexts, one packing');
  t.not(packingOf(item, DEFAULT_CONTEXT), packingOf(item, contextWith({ fourOctetAs: false })), 'a 2-octet peer packs its own');
  const conns = ['a', 'b'].map((peer) => {
    const conn = new FakeConn();
    const tx = new Transmitter({ peer, sent: () => undefined, failed: (err) => t.fail(String(err)) });
    tx.attach(conn.conn, ctx);
    tx.push(item);
    return { conn, tx };
  });
  await waitFor(() => conns.every((c) => c.tx.backlog === 0), { timeoutMs: 5000, intervalMs: 1, what: 'both transmitters' });
  const bytes = packingOf(item, ctx).blocks[0].bytes;
  for (const { conn } of conns) for (const w of conn.written) t.is(w.buffer, bytes.buffer, 'a view of the shared buffer');
  t.true(conns.every((c) => c.conn.corks > 0), 'writes are corked per turn');
});

test('an unencodable part is left out and reported once for the whole group, not once per member', async (t) => {
  const v6 = { afi: 2, len: 122, addr: new Uint8Array(16) } as unknown as Prefix;
  const item: SharedUpdate = {
    kind: 'shared',
    parts: [{ update: announce('10.0.0.1', 1) }, { update: { announce: [{ attributes: attrs('10.0.0.1'), prefixes: [v6] }] } }],
  };
  const failed: unknown[] = [];
  const conns = ['a', 'b', 'c'].map((peer) => {
    const conn = new FakeConn();
    const tx = new Transmitter({ peer, sent: () => undefined, failed: (err) => void failed.push(err) });
    tx.attach(conn.conn, DEFAULT_CONTEXT);
    tx.push(item);
    return { conn, tx };
  });
  await waitFor(() => conns.every((c) => c.tx.backlog === 0), { timeoutMs: 5000, intervalMs: 1, what: 'every member' });
  t.is(failed.length, 1);
  for (const { conn } of conns) t.deepEqual(words(conn.written), ['+10.64.0.64/26']);
});
