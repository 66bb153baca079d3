/**
 * Must-show 4: a test peer written here (raw-peer.ts, a raw TCP speaker in its own namespace)
 * completes the OPEN exchange with the session driver and then sends malformed bytes. Each case
 * checks the NOTIFICATION the agent sends (code, subcode, data; RFC 4271 section 6, RFC 7606) or,
 * for the RFC 7606 treat-as-withdraw and attribute-discard cases, that the session stays up and the
 * routes are withdrawn or kept (an UPDATE left empty by treat-as-withdraw is no End-of-RIB; an
 * AS_SET path, RFC 9774, is withdrawn, counted and logged once). Meanwhile a second session of the same driver, to another driver,
 * stays Established and the driver process stays up. The same peer also checks the OPEN checks
 * (Bad Peer AS, Unacceptable Hold Time, Bad BGP Identifier; RFC 4271 section 6.2) and the answer to
 * a ROUTE-REFRESH (RFC 2918, RFC 7313).
 */

import test from 'ava';
import type { NotificationMessage } from '../../agent/bgp/notification.js';
import { attr, AS_PATH_65100, cat, message, ORIGIN_IGP, update } from '../bgp/build.js';
import { type Driver, startDriver } from '../helpers/driver-client.js';
import { isRoot, Lab, rootSkipReason, waitFor } from '../helpers/netns.js';
import { buildOpen } from '../../agent/session/negotiate.js';
import { RawPeer } from './raw-client.js';
import { driverSpec, peerSpec } from './specs.js';

const RAW = '10.0.1.2';
const OTHER = '10.0.2.2';
const NEXT_HOP = attr(0x40, 3, [10, 0, 1, 2]);
const PREFIX = [24, 10, 9, 0];

interface World {
  lab: Lab;
  agent: Driver;
  other: Driver;
  raw: RawPeer;
}

let world: World | undefined;
const nsTest = isRoot ? test.serial : test.serial.skip;
if (!isRoot) test('malformed-peer tests', (t) => t.log(`skipped: ${rootSkipReason}`));

test.before(async () => {
  if (!isRoot) return;
  const lab = await Lab.create('malformed');
  try {
    const a = await lab.namespace('a');
    const b = await lab.namespace('b');
    const c = await lab.namespace('c');
    await lab.veth(a, '10.0.1.1/24', b, `${RAW}/24`);
    await lab.veth(a, '10.0.2.1/24', c, `${OTHER}/24`);
    const agent = await startDriver(lab, a, driverSpec([
      peerSpec({ address: RAW, localAs: 65001, peerAs: 65100, routerId: '10.0.1.1', passive: true, families: ['ipv4'] }),
      peerSpec({ address: OTHER, localAs: 65001, peerAs: 65003, routerId: '10.0.1.1', holdTime: 3 }),
    ], { announce: { ipv4: ['192.168.1.0/26'], ipv6: [] }, nextHop: { ipv4: '10.0.2.1', ipv6: '' } }));
    const other = await startDriver(lab, c, driverSpec([
      peerSpec({ address: '10.0.2.1', localAs: 65003, peerAs: 65001, routerId: OTHER, holdTime: 3 }),
    ]));
    await agent.waitFor((e) => e.ev === 'established' && e.key === OTHER, 'the other session');
    const raw = await RawPeer.start(lab, b);
    world = { lab, agent, other, raw };
  } catch (err) {
    await lab.destroy();
    throw err;
  }
});

test.after.always(async () => {
  await world?.lab.destroy();
});

/** Waits until the agent accepts again (passive: Active), connects and completes the OPEN exchange. */
async function connectRaw(w: World): Promise<number> {
  await waitFor(async () => (await w.agent.session(RAW))?.state === 'Active', { timeoutMs: 10_000, what: 'the raw peer session to be Active' });
  const from = w.raw.mark();
  const established = w.agent.mark();
  const conn = await w.raw.connect('10.0.1.1', 179);
  await w.raw.establish(conn, { asn: 65100, routerId: RAW }, from);
  await w.agent.waitFor((e) => e.ev === 'established' && e.key === RAW, 'the raw session Established', undefined, established);
  return conn;
}

/** The other session never left Established, and the driver is alive. */
async function othersUntouched(t: import('ava').ExecutionContext, w: World): Promise<void> {
  t.true(w.agent.alive(), 'the driver process is up');
  const left = w.agent.events.slice(0, w.agent.mark()).filter((e) => e.ev === 'state' && e.key === OTHER && e.from === 'Established');
  t.deepEqual(left, [], 'the other session never left Established');
  t.is((await w.agent.session(OTHER))?.state, 'Established');
}

const resetCases: { title: string; bytes: () => Uint8Array; code: number; subcode: number; data?: number[] }[] = [
  {
    title: 'a bad marker: Message Header Error / Connection Not Synchronized',
    bytes: () => { const m = message(4, []); m[3] = 0; return m; },
    code: 1, subcode: 1,
  },
  {
    title: 'a length beyond 4096 without extended messages: Bad Message Length, the length as data',
    bytes: () => cat(message(2, [], 5000), new Array<number>(100).fill(0)),
    code: 1, subcode: 2, data: [0x13, 0x88],
  },
  {
    title: 'a KEEPALIVE of 20 bytes: Bad Message Length',
    bytes: () => message(4, [0]),
    code: 1, subcode: 2, data: [0, 20],
  },
  {
    title: 'an unknown message type: Bad Message Type, the type as data',
    bytes: () => message(9, []),
    code: 1, subcode: 3, data: [9],
  },
  {
    title: 'a path attribute length beyond the message: UPDATE Message Error / Malformed Attribute List',
    bytes: () => { const m = update({ attrs: cat(ORIGIN_IGP, AS_PATH_65100, NEXT_HOP), nlri: PREFIX }); m[22] += 40; return m; },
    code: 3, subcode: 1,
  },
  {
    title: 'an unrecognized well-known attribute: UPDATE Message Error / Unrecognized Well-known Attribute',
    bytes: () => update({ attrs: cat(ORIGIN_IGP, AS_PATH_65100, NEXT_HOP, attr(0x40, 99, [1])), nlri: PREFIX }),
    code: 3, subcode: 2,
  },
];

for (const c of resetCases) {
  nsTest(`malformed: ${c.title}`, async (t) => {
    const w = world!;
    const conn = await connectRaw(w);
    const from = w.raw.mark();
    w.raw.send(conn, c.bytes());
    const n = (await w.raw.message(conn, 3, from, 'a NOTIFICATION')) as NotificationMessage;
    t.is(n.code, c.code);
    t.is(n.subcode, c.subcode);
    if (c.data) t.deepEqual([...n.data], c.data);
    await w.raw.waitFor((e) => e.ev === 'closed' && e.conn === conn, 'the agent to close the connection', from);
    const s = await w.agent.session(RAW);
    t.regex(s?.lastError ?? '', /^Sent: /);
    t.not(s?.state, 'Established');
    await othersUntouched(t, w);
  });
}

const openCases: { title: string; open: { asn: number; routerId: string; holdTime?: number }; subcode: number; words: string }[] = [
  { title: 'a wrong AS: Bad Peer AS', open: { asn: 65999, routerId: RAW }, subcode: 2, words: 'Sent: OPEN Message Error / Bad Peer AS' },
  { title: 'a hold time of 2 s: Unacceptable Hold Time', open: { asn: 65100, routerId: RAW, holdTime: 2 }, subcode: 6, words: 'Sent: OPEN Message Error / Unacceptable Hold Time' },
  { title: 'identifier 0.0.0.0: Bad BGP Identifier', open: { asn: 65100, routerId: '0.0.0.0' }, subcode: 3, words: 'Sent: OPEN Message Error / Bad BGP Identifier' },
];

for (const c of openCases) {
  nsTest(`OPEN check: ${c.title}`, async (t) => {
    const w = world!;
    await waitFor(async () => (await w.agent.session(RAW))?.state === 'Active', { timeoutMs: 10_000, what: 'the raw peer session to be Active' });
    const from = w.raw.mark();
    const conn = await w.raw.connect('10.0.1.1', 179);
    const open = buildOpen({ asn: c.open.asn, routerId: c.open.routerId, holdTime: c.open.holdTime ?? 90, families: ['ipv4'] });
    w.raw.sendMessage(conn, open);
    const n = (await w.raw.message(conn, 3, from, 'the NOTIFICATION')) as NotificationMessage;
    t.deepEqual([n.code, n.subcode], [2, c.subcode]);
    await waitFor(async () => (await w.agent.session(RAW))?.lastError === c.words, { timeoutMs: 5000, what: `last error '${c.words}'` });
    await othersUntouched(t, w);
  });
}

nsTest('RFC 7606: a bad ORIGIN is treat-as-withdraw, the session stays up', async (t) => {
  const w = world!;
  const conn = await connectRaw(w);
  const mark = w.agent.mark();
  w.raw.send(conn, update({ attrs: cat(ORIGIN_IGP, AS_PATH_65100, NEXT_HOP), nlri: PREFIX }));
  await w.agent.waitFor((e) => e.ev === 'update' && e.key === RAW && (e.announced as string[] | undefined)?.includes('10.9.0.0/24') === true, 'the announcement', undefined, mark);
  const from = w.raw.mark();
  w.raw.send(conn, update({ attrs: cat(attr(0x40, 1, [7]), AS_PATH_65100, NEXT_HOP), nlri: PREFIX }));
  const withdrawal = await w.agent.waitFor((e) => e.ev === 'update' && e.key === RAW && (e.withdrawn as string[] | undefined)?.includes('10.9.0.0/24') === true, 'the withdrawal', undefined, mark);
  t.deepEqual(withdrawal.announced, []);
  // A KEEPALIVE answered normally proves the session survived; no NOTIFICATION came.
  w.raw.sendMessage(conn, { type: 'keepalive' });
  const s = await w.agent.session(RAW);
  t.is(s?.state, 'Established');
  t.is(s?.received, 0);
  t.false(w.raw.events.slice(from, w.raw.mark()).some((e) => e.ev === 'message' && e.type === 3));
  t.false(w.agent.events.slice(mark, w.agent.mark()).some((e) => e.ev === 'state' && e.key === RAW));
  w.raw.command({ cmd: 'close', conn });
  await w.agent.waitFor((e) => e.ev === 'down' && e.key === RAW, 'the raw session down after close', undefined, mark);
  await othersUntouched(t, w);
});

nsTest('RFC 7606 with RFC 4724: a treat-as-withdraw UPDATE left empty is not End-of-RIB; the empty UPDATE is', async (t) => {
  const w = world!;
  const conn = await connectRaw(w);
  const mark = w.agent.mark();
  // A bad ORIGIN and no NLRI: treat-as-withdraw leaves nothing, which must not read as End-of-RIB.
  w.raw.send(conn, update({ attrs: cat(attr(0x40, 1, [7]), AS_PATH_65100, NEXT_HOP) }));
  w.raw.send(conn, update({}));
  await w.agent.waitFor((e) => e.ev === 'update' && e.key === RAW && e.endOfRib === 'ipv4', 'the End-of-RIB', undefined, mark);
  const seen = w.agent.events.slice(mark, w.agent.mark()).filter((e) => e.ev === 'update' && e.key === RAW);
  t.deepEqual(seen.map((e) => e.endOfRib), [undefined, 'ipv4'], 'only the genuinely empty UPDATE ends the table');
  w.raw.command({ cmd: 'close', conn });
  await w.agent.waitFor((e) => e.ev === 'down' && e.key === RAW, 'the raw session down after close', undefined, mark);
  await othersUntouched(t, w);
});

nsTest('RFC 9774: an AS_SET path is treat-as-withdraw, counted per UPDATE and logged once per session', async (t) => {
  const w = world!;
  const conn = await connectRaw(w);
  const mark = w.agent.mark();
  const warnsBefore = asSetWarnings(w.agent.stderr());
  w.raw.send(conn, update({ attrs: cat(ORIGIN_IGP, AS_PATH_65100, NEXT_HOP), nlri: PREFIX }));
  await w.agent.waitFor((e) => e.ev === 'update' && e.key === RAW && (e.announced as string[] | undefined)?.includes('10.9.0.0/24') === true, 'the announcement', undefined, mark);
  // AS_PATH: SEQUENCE 65100, SET {65101, 65102}: an aggregate's path.
  const setPath = attr(0x40, 2, [2, 1, 0, 0, 0xfe, 0x4c, 1, 2, 0, 0, 0xfe, 0x4d, 0, 0, 0xfe, 0x4e]);
  for (let i = 0; i < 2; i++) w.raw.send(conn, update({ attrs: cat(ORIGIN_IGP, setPath, NEXT_HOP), nlri: PREFIX }));
  await w.agent.waitFor((e) => e.ev === 'update' && e.key === RAW && (e.withdrawn as string[] | undefined)?.includes('10.9.0.0/24') === true, 'the withdrawal', undefined, mark);
  await waitFor(async () => (await w.agent.session(RAW))?.asSetWithdrawn === 2, { timeoutMs: 5000, what: 'two UPDATEs counted' });
  const s = await w.agent.session(RAW);
  t.is(s?.state, 'Established', 'treat-as-withdraw keeps the session');
  t.is(s?.received, 0);
  await waitFor(() => asSetWarnings(w.agent.stderr()) === warnsBefore + 1, { timeoutMs: 5000, what: 'the warning' });
  t.is(asSetWarnings(w.agent.stderr()), warnsBefore + 1, 'one warning for two UPDATEs');
  w.raw.command({ cmd: 'close', conn });
  await w.agent.waitFor((e) => e.ev === 'down' && e.key === RAW, 'the raw session down after close', undefined, mark);
  await othersUntouched(t, w);
});

/** The driver's warn lines about an AS_SET (its stderr is JSON lines). */
function asSetWarnings(stderr: string): number {
  return stderr.split('\n').filter((l) => l.includes('"level":"warn"') && l.includes('AS_SET')).length;
}

nsTest('RFC 7606: a malformed ATOMIC_AGGREGATE is discarded, the route is kept', async (t) => {
  const w = world!;
  const conn = await connectRaw(w);
  const mark = w.agent.mark();
  w.raw.send(conn, update({ attrs: cat(ORIGIN_IGP, AS_PATH_65100, NEXT_HOP, attr(0x40, 6, [1])), nlri: PREFIX }));
  const e = await w.agent.waitFor((x) => x.ev === 'update' && x.key === RAW && (x.announced as string[] | undefined)?.includes('10.9.0.0/24') === true, 'the announcement', undefined, mark);
  t.deepEqual(e.withdrawn, []);
  const s = await w.agent.session(RAW);
  t.is(s?.state, 'Established');
  t.is(s?.received, 1);
  w.raw.command({ cmd: 'close', conn });
  await othersUntouched(t, w);
});

nsTest('ROUTE-REFRESH: answered with BoRR, the routes again and EoRR (RFC 7313)', async (t) => {
  const w = world!;
  const from = w.raw.mark();
  const conn = await connectRaw(w);
  await w.raw.waitFor((e) => e.ev === 'message' && e.conn === conn && e.type === 2, 'the first announcement', from);
  const mark = w.raw.mark();
  w.raw.sendMessage(conn, { type: 'route-refresh', afi: 1, safi: 1, subtype: 0 });
  const borr = await w.raw.message(conn, 5, mark, 'BoRR');
  t.like(borr, { type: 'route-refresh', afi: 1, safi: 1, subtype: 1 });
  await w.raw.waitFor((e) => e.ev === 'message' && e.conn === conn && e.type === 5 && (e.hex as string).endsWith('00010201'), 'EoRR', mark);
  // In order: BoRR, the UPDATE with our prefix, EoRR (the driver answers as the RIB does).
  const after = w.raw.events.slice(mark, w.raw.mark()).filter((e) => e.ev === 'message' && e.conn === conn && e.type !== 4);
  const kinds = after.map((e) => (e.type === 5 ? `rr${(e.hex as string).slice(-4, -2)}` : `type${String(e.type)}`));
  t.is(kinds[0], 'rr01');
  t.is(kinds[kinds.length - 1], 'rr02');
  t.true(kinds.slice(1, -1).includes('type2'));
  const update = after.find((e) => e.type === 2);
  t.true((update?.hex as string).endsWith('1ac0a80100'), 'the UPDATE carries 192.168.1.0/26');
  w.raw.command({ cmd: 'close', conn });
  await othersUntouched(t, w);
});
