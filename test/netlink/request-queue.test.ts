/**
 * The route socket's request queue without a socket (request-queue.ts, in-flight.ts): datagrams
 * built in place are byte for byte what encodeBatch gives for the same messages (bulk payloads
 * written by their owner, request objects copied, the ACK flag on the last only), the scratch
 * buffer grows for a message that does not fit, and answers settle by the rules: an error answers
 * its own message, the last message's ACK settles the rest of its datagram, a lost datagram fails
 * what it carried, across the wrap of the sequence numbers (0 is skipped) too.
 */
import test from 'ava';
import { NLMSG, NLMSG_HDRLEN, NLM_F } from '../../netlink/rtnetlink/constants.js';
import { NetlinkError } from '../../netlink/rtnetlink/errors.js';
import { advance } from '../../netlink/rtnetlink/in-flight.js';
import { dropJob, emptyRing, peekJob, pushJob, takeAll } from '../../netlink/rtnetlink/job-ring.js';
import { encodeBatch, type NlMessage } from '../../netlink/rtnetlink/message.js';
import {
  buildBatch, type BulkRequests, emptyQueue, failSent, pending, receive as receiveOne, type RequestQueue, type RouteRequest, submitJob,
} from '../../netlink/rtnetlink/request-queue.js';

/** One answer as the route socket takes it: received, then settled entries dropped. */
function receive(q: RequestQueue, msg: NlMessage): void {
  receiveOne(q, msg);
  advance(q.inflight);
}

/** Bulk request n: type 24, flags CREATE, payload n+1 bytes of value n (a big n does not fit the scratch). */
function bulk(outcomes: Map<number, string>): BulkRequests {
  const bytes = (n: number) => Buffer.alloc(n === 99 ? 100_000 : n + 1, n);
  return {
    type: () => 24,
    flags: () => NLM_F.CREATE,
    op: () => 'newroute',
    write: (n, buf, at) => {
      const b = bytes(n);
      if (at + b.length <= buf.length) b.copy(buf, at);
      return b.length;
    },
    done: (n, err) => void outcomes.set(n, err === null ? 'ok' : err.code),
  };
}

function request(name: string, payload: Buffer, outcomes: Map<string, string>): RouteRequest {
  return { type: 25, flags: 0, op: 'delroute', payload: () => payload, done: (err) => void outcomes.set(name, err === null ? 'ok' : err.code) };
}

function queue(seq: number, outcomes: Map<number, string>): RequestQueue {
  const q = emptyQueue(bulk(outcomes));
  q.seq = seq;
  return q;
}

/** An NLMSG_ERROR answering `seq`: errno 0 is an ACK. */
function answer(seq: number, errno: number): NlMessage {
  const payload = Buffer.alloc(20);
  payload.writeInt32LE(-errno, 0);
  return { type: NLMSG.ERROR, flags: 0, seq, pid: 0, payload };
}

const seqAfter = (seq: number, n: number): number => {
  let s = seq;
  for (let k = 0; k < n; k++) s = s === 0xffffffff ? 1 : s + 1;
  return s;
};

test('a datagram built in place is encodeBatch of the same messages: bulk payloads, a request object, ACK on the last only', (t) => {
  const outcomes = new Map<number, string>();
  const named = new Map<string, string>();
  const q = queue(1000, outcomes);
  const del = Buffer.from([7, 7, 7, 7, 7]);
  for (const job of [0, 5, request('del', del, named), 2]) submitJob(q, job);
  const batch = buildBatch(q, 10);
  t.truthy(batch);
  t.is(batch!.first, 1001);
  t.is(batch!.count, 4);
  const want = encodeBatch([
    { type: 24, flags: NLM_F.CREATE | NLM_F.REQUEST, seq: 1001, payload: Buffer.alloc(1, 0) },
    { type: 24, flags: NLM_F.CREATE | NLM_F.REQUEST, seq: 1002, payload: Buffer.alloc(6, 5) },
    { type: 25, flags: NLM_F.REQUEST, seq: 1003, payload: del },
    { type: 24, flags: NLM_F.CREATE | NLM_F.REQUEST, seq: 1004, payload: Buffer.alloc(3, 2) },
  ]);
  t.deepEqual(Buffer.from(batch!.datagram), want);
  t.is(pending(q), 4);
});

test('a batch stops at its maximum and before a dump; the scratch grows for a message that does not fit', (t) => {
  const outcomes = new Map<number, string>();
  const q = queue(1, outcomes);
  for (const job of [1, 2, 3]) submitJob(q, job);
  t.is(buildBatch(q, 2)!.count, 2);
  t.is(buildBatch(q, 2)!.count, 1);
  t.is(buildBatch(q, 2), null);
  for (const job of [4, 99, 6]) submitJob(q, job);
  const big = buildBatch(q, 10)!;
  t.is(big.count, 3);
  t.is(big.datagram.length, (NLMSG_HDRLEN + 8) + (NLMSG_HDRLEN + 100_000) + (NLMSG_HDRLEN + 8));
  t.is(big.datagram.readUInt32LE(NLMSG_HDRLEN + 8), NLMSG_HDRLEN + 100_000, 'the big message is whole');
  t.is(big.datagram[3 * NLMSG_HDRLEN + 8 + 100_000], 6, 'and the one after it follows');
});

for (const start of [500, 0xffffffff - 2]) {
  test(`answers settle by the rules, sequence numbers from ${start}${start > 1000 ? ' (they wrap, 0 skipped)' : ''}`, (t) => {
    const outcomes = new Map<number, string>();
    const q = queue(start, outcomes);
    for (const job of [10, 11, 12, 13, 14, 15]) submitJob(q, job);
    const a = buildBatch(q, 4)!;
    const b = buildBatch(q, 4)!;
    t.is(a.first, seqAfter(start, 1));
    t.is(b.first, seqAfter(start, 5));
    t.is(b.count, 2);
    // The third message of the first datagram fails; then the datagram's last ACKs the rest.
    receive(q, answer(seqAfter(a.first, 2), 17));
    t.deepEqual([...outcomes], [[12, 'EEXIST']]);
    receive(q, answer(seqAfter(a.first, 3), 0));
    t.deepEqual(Object.fromEntries(outcomes), { 10: 'ok', 11: 'ok', 12: 'EEXIST', 13: 'ok' });
    // An answer twice, or to nothing, changes nothing.
    receive(q, answer(seqAfter(a.first, 1), 0));
    receive(q, answer(seqAfter(b.first, 9), 0));
    t.is(outcomes.size, 4);
    // The second datagram was lost: both its requests fail.
    failSent(q, b.first, b.count, new NetlinkError('send', 'ENOBUFS', 'lost'));
    t.deepEqual(Object.fromEntries(outcomes), { 10: 'ok', 11: 'ok', 12: 'EEXIST', 13: 'ok', 14: 'ENOBUFS', 15: 'ENOBUFS' });
    t.is(pending(q), 0);
  });
}

test('thousands in flight: positions compact, and a late answer still finds its request', (t) => {
  const outcomes = new Map<number, string>();
  const q = queue(0xffffffff - 3000, outcomes);
  for (let n = 0; n < 10_000; n++) submitJob(q, n);
  const batches = [];
  for (let b = buildBatch(q, 100); b !== null; b = buildBatch(q, 100)) batches.push(b);
  t.is(batches.length, 100);
  // Every datagram but the last is acknowledged, in order: compaction happens on the way.
  for (const b of batches.slice(0, -1)) receive(q, answer(seqAfter(b.first, b.count - 1), 0));
  t.is(outcomes.size, 9_900);
  const last = batches.at(-1)!;
  receive(q, answer(seqAfter(last.first, 50), 22));
  t.is(outcomes.get(9_950), 'EINVAL');
  receive(q, answer(seqAfter(last.first, 99), 0));
  t.is(outcomes.size, 10_000);
  t.is([...outcomes.values()].filter((v) => v === 'ok').length, 9_999);
  t.is(pending(q), 0);
});

test('the job ring keeps submission order through wraps and growth, numbers and objects mixed; what left is not referenced', (t) => {
  const ring = emptyRing<{ name: string }>();
  const want: (number | { name: string })[] = [];
  let next = 0;
  // Take a little less than is put each round: the ring wraps, then grows past 1,024 while wrapped.
  for (let round = 0; round < 40; round++) {
    for (let k = 0; k < 100; k++) {
      const job = next % 7 === 0 ? { name: `o${next}` } : next;
      next++;
      pushJob(ring, job);
      want.push(job);
    }
    for (let k = 0; k < 60; k++) {
      t.is(peekJob(ring), want.shift());
      dropJob(ring);
    }
  }
  t.is(ring.length, want.length);
  t.true(ring.nums.length >= 2048, `grew to ${ring.nums.length}`);
  t.deepEqual(takeAll(ring), want);
  t.is(ring.length, 0);
  t.is(peekJob(ring), undefined);
  t.true(ring.objs.every((o) => o === null), 'no job object stays referenced');
});
