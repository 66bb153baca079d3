/**
 * The prober (agent/check/prober.ts) over fake sockets: replies are matched by this run's
 * identifier, the sequence number and the probe's token (a reply carrying another prober's id or
 * a wrong token is not ours); probes in flight stay under maxInFlight; a run ends at its timeout
 * whatever is still unanswered. And the real raw socket's family guard (raw-socket 1.8.1 would
 * send an IPv6 address on an IPv4 socket to 0.0.0.0): refused before anything is sent.
 */
import test from 'ava';

import { CheckError } from '../../agent/check/errors.js';
import { probe, type ProbeResult, type SocketOpener } from '../../agent/check/prober.js';
import { openIcmpSocket } from '../../agent/check/raw.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { isRoot } from '../helpers/netns.js';

interface Sent { address: string; message: Buffer }

/** A fake raw socket pair: records sends; `reply` answers one of them through the datagram callback. */
function fakeNet(answer?: (sent: Sent) => Buffer | null) {
  const sent: Sent[] = [];
  let deliver: ((d: Buffer, source: string) => void) | null = null;
  let maxOutstanding = 0;
  let outstanding = 0;
  const open: SocketOpener = (family, onDatagram) => {
    deliver = onDatagram;
    return {
      family,
      send(address, message, before, done) {
        before();
        sent.push({ address, message: Buffer.from(message) });
        outstanding += 1;
        maxOutstanding = Math.max(maxOutstanding, outstanding);
        done(null);
        const reply = answer?.({ address, message });
        if (reply) setImmediate(() => {
          outstanding -= 1;
          deliver?.(reply, address);
        });
      },
      close() {},
    };
  };
  return { open, sent, deliver: (d: Buffer) => deliver?.(d, '10.0.1.14'), get maxOutstanding() { return maxOutstanding; }, settle() { outstanding = 0; } };
}

const IPV4 = Buffer.from('4500000000000000400100000a00010e0a00010b', 'hex');
/** The echo reply a host would send to `message`, as a raw IPv4 socket reads it. */
function replyTo(message: Buffer, mutate: (reply: Buffer) => void = () => undefined): Buffer {
  const reply = Buffer.from(message);
  reply[0] = 0;
  mutate(reply);
  const ip = Buffer.from(IPV4);
  ip.writeUInt16BE(20 + reply.length, 2);
  return Buffer.concat([ip, reply]);
}

test('an echo reply is ours only with our id, a sequence number we sent and that probe\'s token', async (t) => {
  const cases: [string, (r: Buffer) => void, ProbeResult['kind']][] = [
    ['exact', () => undefined, 'answered'],
    ['another prober\'s identifier', (r) => r.writeUInt16BE((r.readUInt16BE(4) + 1) & 0xffff, 4), 'lost'],
    ['a sequence number never sent', (r) => r.writeUInt16BE((r.readUInt16BE(6) + 100) & 0xffff, 6), 'lost'],
    ['a wrong token (same id and seq)', (r) => { r[8] ^= 0xff; }, 'lost'],
  ];
  for (const [name, mutate, kind] of cases) {
    const net = fakeNet((s) => replyTo(s.message, mutate));
    const [result] = await probe([{ family: 4, address: '10.0.1.14', packetBytes: 64 }], { timeoutMs: 600, attempts: 1, open: net.open });
    t.is(result.kind, kind, name);
    t.is(net.sent[0].message.length, 44, 'a 64-byte IP packet is a 44-byte echo');
  }
});

test('a lost probe is sent again with a new sequence number and token; the retry\'s answer counts', async (t) => {
  let n = 0;
  const net = fakeNet((s) => (n++ === 0 ? null : replyTo(s.message)));
  const [result] = await probe([{ family: 4, address: '10.0.1.14', packetBytes: 1500 }], { timeoutMs: 900, attempts: 2, open: net.open });
  t.like(result, { kind: 'answered', attempts: 2 });
  t.is(net.sent.length, 2);
  t.not(net.sent[0].message.readUInt16BE(6), net.sent[1].message.readUInt16BE(6));
  t.false(net.sent[0].message.subarray(8, 16).equals(net.sent[1].message.subarray(8, 16)));
  t.is(net.sent[0].message.length, 1480);
});

test('bounded in flight: never more than maxInFlight unanswered', async (t) => {
  const net = fakeNet((s) => replyTo(s.message));
  const requests = Array.from({ length: 200 }, (_, i) => ({ family: 4 as const, address: `10.0.${i >> 8}.${i & 255}`, packetBytes: 64 }));
  const results = await probe(requests, { timeoutMs: 3000, maxInFlight: 8, open: net.open });
  t.true(results.every((r) => r.kind === 'answered'));
  t.is(net.sent.length, 200);
  t.true(net.maxOutstanding <= 8, `${net.maxOutstanding} in flight`);
  t.true(net.maxOutstanding >= 2, 'the bound is the one reached, not 1');
});

test('bounded in time: a silent network ends at the timeout, unsent probes are not-sent', async (t) => {
  const net = fakeNet(() => null);
  const requests = Array.from({ length: 50 }, (_, i) => ({ family: 4 as const, address: `10.0.2.${i}`, packetBytes: 64 }));
  const t0 = performance.now();
  const results = await probe(requests, { timeoutMs: 500, maxInFlight: 10, attempts: 1, open: net.open });
  const ms = performance.now() - t0;
  t.true(ms >= 450 && ms < 900, `${ms} ms`);
  t.true(results.some((r) => r.kind === 'lost'));
  t.true(results.some((r) => r.kind === 'not-sent'));
  t.true(results.every((r) => r.kind === 'lost' || r.kind === 'not-sent'));
});

test('on an injected clock: the sweep resends a lost probe after its wait, and gives it up after the last', async (t) => {
  const net = fakeNet(() => null);
  const clock = new FakeClock(1000);
  let results: ProbeResult[] | undefined;
  void probe([{ family: 4, address: '10.0.2.1', packetBytes: 64 }], { timeoutMs: 10_000, attempts: 2, open: net.open, clock })
    .then((r) => { results = r; });
  const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
  t.is(net.sent.length, 1);
  // Each attempt waits min(1 s, 10 s / 3): the second goes out on the sweep 1 s of fake time later.
  clock.advance(999);
  t.is(net.sent.length, 1);
  clock.advance(21);
  t.is(net.sent.length, 2, 'the retry is sent by the sweep on the injected clock');
  clock.advance(979);
  await turn();
  t.is(results, undefined, 'the retry still has 1 ms');
  clock.advance(1);
  await turn();
  t.deepEqual(results, [{ kind: 'lost', attempts: 2 }]);
});

test('a socket that cannot be opened makes its family\'s probes no-socket; the other family still runs', async (t) => {
  const net = fakeNet((s) => replyTo(s.message));
  const open: SocketOpener = (family, d, e) => {
    if (family === 6) throw new CheckError('NO_CAP_NET_RAW', 'no CAP_NET_RAW: cannot open a raw ICMPv6 socket (EPERM)');
    return net.open(family, d, e);
  };
  const results = await probe([{ family: 6, address: 'fd00:1::14', packetBytes: 64 }, { family: 4, address: '10.0.1.14', packetBytes: 64 }], { timeoutMs: 500, open });
  t.like(results[0], { kind: 'no-socket', code: 'NO_CAP_NET_RAW' });
  t.is(results[1].kind, 'answered');
});

test('the raw IPv4 socket refuses an IPv6 address (FAMILY_MISMATCH) instead of sending to 0.0.0.0', (t) => {
  if (!isRoot) return t.fail('needs root (CAP_NET_RAW)');
  const socket = openIcmpSocket(4, () => undefined, () => undefined);
  try {
    const e = t.throws(() => socket.send('fd00:1::14', Buffer.alloc(16), () => undefined, () => undefined), { instanceOf: CheckError });
    t.is(e?.code, 'FAMILY_MISMATCH');
    const e2 = t.throws(() => socket.send('not-an-address', Buffer.alloc(16), () => undefined, () => undefined), { instanceOf: CheckError });
    t.is(e2?.code, 'FAMILY_MISMATCH');
  } finally {
    socket.close();
  }
});

/**
 * Sockets that fail under the prober (issue 19 item 13): `plan[n]` says how the n-th socket opened
 * behaves: 'ok' answers, 'error-event' emits its error event at its first send (raw-socket then
 * closes it) and answers nothing, 'error-queued' does so while its sends are still queued (they
 * never complete, as raw-socket drops its queue on close), 'ebadf' answers every send with EBADF.
 */
type How = 'ok' | 'error-event' | 'error-queued' | 'ebadf';
function failingNet(plan: readonly How[]) {
  const opened: string[] = [];
  const sends: string[] = [];
  const open: SocketOpener = (family, onDatagram, onError) => {
    const how = plan[opened.length] ?? plan[plan.length - 1];
    opened.push(how);
    let closed = false;
    return {
      family,
      send(address, message, before, done) {
        sends.push(how);
        if (how === 'error-queued') {
          if (!closed) setImmediate(() => onError(new Error('Bad file descriptor')));
          closed = true;
          return;
        }
        if (closed || how === 'ebadf') return void setImmediate(() => done('EBADF'));
        before();
        done(null);
        if (how === 'error-event') {
          closed = true;
          return void setImmediate(() => onError(new Error('Bad file descriptor')));
        }
        setImmediate(() => onDatagram(replyTo(message), address));
      },
      close() {
        closed = true;
      },
    };
  };
  return { open, opened, sends };
}

const failures: [string, How[], ProbeResult['kind'], number][] = [
  ['an error event mid-run: reopened, the probe sent again and answered', ['error-event', 'ok'], 'answered', 2],
  ['an error event with sends still queued in the socket: they are sent again and answered, not lost', ['error-queued', 'ok'], 'answered', 2],
  ['EBADF on send: reopened, the probe sent again and answered', ['ebadf', 'ok'], 'answered', 2],
  ['a socket that keeps failing: reopened 3 times, then socket-error (never lost)', ['ebadf'], 'socket-error', 4],
];
for (const [name, plan, kind, opens] of failures) {
  test(`a raw socket that fails: ${name}`, async (t) => {
    const net = failingNet(plan);
    const warned: string[] = [];
    const log = { warn: (m: string) => warned.push(m) };
    const results = await probe([{ family: 4, address: '10.0.1.14', packetBytes: 64 }, { family: 4, address: '10.0.1.15', packetBytes: 1500 }], { timeoutMs: 2000, attempts: 1, open: net.open, log });
    t.deepEqual(results.map((r) => r.kind), [kind, kind]);
    if (kind === 'answered') t.like(results[0], { attempts: 1 }, 'the failed socket\'s send is not an attempt');
    if (kind === 'socket-error') t.like(results[0], { errno: 'EBADF', reopens: 3 });
    t.is(net.opened.length, opens);
    t.true(warned.length >= 1 && warned.every((w) => /raw ICMP socket failed \(EBADF\)/.test(w)), warned.join('\n'));
  });
}

test('an opener that throws raw-socket\'s EPERM is no CAP_NET_RAW', async (t) => {
  const open: SocketOpener = () => {
    throw new Error('Operation not permitted');
  };
  const [result] = await probe([{ family: 4, address: '10.0.1.14', packetBytes: 64 }], { timeoutMs: 300, open });
  t.like(result, { kind: 'no-socket', code: 'NO_CAP_NET_RAW', message: 'no CAP_NET_RAW: cannot open a raw ICMP socket (EPERM)' });
});
