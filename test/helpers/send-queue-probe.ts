/**
 * RouteSocket's send queue (issue 21: datagrams handed to the addon's worker thread, many at
 * once) in a child process inside a lab namespace, where it changes blackhole /32 routes of
 * protocol 203. Prints one JSON line and exits 0 when it got there.
 *
 *   send-queue-probe order N   for N prefixes: add, delete, add again (NLM_F_EXCL), then a fourth
 *                              add of every 100th (EEXIST expected), all submitted at once with
 *                              64 messages a datagram; reports each request's outcome, how many
 *                              datagrams went to the addon before the first answer, and the
 *                              prefixes in the kernel. Any reordering across datagrams shows as
 *                              EEXIST or ESRCH where none belongs.
 *   send-queue-probe close N   N adds submitted, close() in the same turn: every request fails
 *                              once (EBADF), nothing is called after close resolves, and the
 *                              kernel holds whole datagrams only (the one being sent, if any).
 *   send-queue-probe refusals N   N adds, then the same N again (every one refused, EEXIST),
 *                              with the FIB's defaults (window, 512 a datagram): each refusal is an
 *                              error message of its own, and all of them must fit the request
 *                              socket's receive buffer (no overflow, every outcome EEXIST).
 * Used by test/netlink/send-queue.test.ts.
 */
import { NLM_F, RTM, RTN } from '../../netlink/rtnetlink/constants.js';
import { NetlinkError, type NetlinkOp } from '../../netlink/rtnetlink/errors.js';
import { decodeRoute, encodeRoute, routeMessage } from '../../netlink/rtnetlink/route.js';
import { RouteSocket } from '../../netlink/rtnetlink/route-socket.js';

const PROTO = 203;
const BATCH = 64;
const mode = process.argv[2];
const count = Number(process.argv[3]);

const dst = (i: number): string => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
const payload = (i: number): Buffer =>
  encodeRoute(routeMessage({ family: 4, dstLen: 32, protocol: PROTO, type: RTN.BLACKHOLE, dst: dst(i) }));

interface Outcome {
  calls: number;
  code: string | null;
}

function submit(socket: RouteSocket, outcomes: Outcome[], type: number, flags: number, op: NetlinkOp, i: number): void {
  const o: Outcome = { calls: 0, code: null };
  outcomes.push(o);
  socket.submit({
    type, flags, op, payload: () => payload(i),
    done: (err) => {
      o.calls++;
      o.code = err === null ? null : err.code;
    },
  });
}

/** Our prefixes in the main table, by a dump on the same socket. */
async function kernelPrefixes(socket: RouteSocket): Promise<number> {
  let n = 0;
  await socket.dump(RTM.GETROUTE, encodeRoute(routeMessage({ family: 4 })), (msg) => {
    if (msg.type === RTM.NEWROUTE && decodeRoute(msg.payload).protocol === PROTO) n++;
  });
  return n;
}

function tally(outcomes: Outcome[]): Record<string, number> {
  const codes: Record<string, number> = {};
  for (const o of outcomes) {
    const key = o.calls !== 1 ? `calls=${o.calls}` : o.code ?? 'ok';
    codes[key] = (codes[key] ?? 0) + 1;
  }
  return codes;
}

async function order(): Promise<Record<string, unknown>> {
  const socket = RouteSocket.open({ groups: [], batch: BATCH });
  const outcomes: Outcome[] = [];
  const add = NLM_F.CREATE | NLM_F.EXCL;
  for (let i = 0; i < count; i++) submit(socket, outcomes, RTM.NEWROUTE, add, 'newroute', i);
  for (let i = 0; i < count; i++) submit(socket, outcomes, RTM.DELROUTE, 0, 'delroute', i);
  for (let i = 0; i < count; i++) submit(socket, outcomes, RTM.NEWROUTE, add, 'newroute', i);
  const expectedFail = new Set<number>();
  for (let i = 0; i < count; i += 100) {
    expectedFail.add(outcomes.length);
    submit(socket, outcomes, RTM.NEWROUTE, add, 'newroute', i);
  }
  await Promise.resolve(); // the pump runs in a microtask: every datagram the window allows goes now
  await Promise.resolve();
  const handedBeforeAnswers = socket.stats.datagrams;
  await socket.whenIdle();
  // The addon's counters (nlSendStats): every datagram sent, and the kernel's time on them. The
  // kernel queues a datagram's ACK inside sendto, before the send thread counts it: the last ACK
  // can be read first, so the count is polled (2 s at most) until it has caught up.
  const deadline = Date.now() + 2000;
  while (socket.kernelTime().datagrams < socket.stats.datagrams && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 1));
  const kernel = { ...socket.kernelTime(), handed: socket.stats.datagrams };
  const unexpected = outcomes.map((o, k) => ({ k, ...o }))
    .filter((o) => o.calls !== 1 || (expectedFail.has(o.k) ? o.code !== 'EEXIST' : o.code !== null)).slice(0, 5);
  const prefixes = await kernelPrefixes(socket);
  const beforeClose = socket.kernelTime();
  await socket.close();
  const afterClose = socket.kernelTime();
  return {
    mode, count, requests: outcomes.length, codes: tally(outcomes), unexpected, handedBeforeAnswers, datagrams: socket.stats.datagrams, prefixes,
    kernel, keptAtClose: afterClose.datagrams === beforeClose.datagrams && afterClose.seconds === beforeClose.seconds,
  };
}

async function close(): Promise<Record<string, unknown>> {
  const socket = RouteSocket.open({ groups: [], batch: BATCH });
  const outcomes: Outcome[] = [];
  for (let i = 0; i < count; i++) submit(socket, outcomes, RTM.NEWROUTE, NLM_F.CREATE | NLM_F.EXCL, 'newroute', i);
  await Promise.resolve();
  await Promise.resolve();
  const handed = socket.stats.datagrams;
  const closing = socket.close();
  const atClose = tally(outcomes);
  await closing;
  const after = outcomes.reduce((n, o) => n + o.calls, 0);
  // Give the loop a few turns: nothing may be called after close resolved.
  for (let k = 0; k < 20; k++) await new Promise((resolve) => setImmediate(resolve));
  const late = outcomes.reduce((n, o) => n + o.calls, 0) - after;
  const check = RouteSocket.open({ groups: [] });
  const prefixes = await kernelPrefixes(check);
  await check.close();
  let rejected = '';
  await socket.request(RTM.NEWROUTE, NLM_F.CREATE, 'newroute', payload(count)).catch((err: unknown) => {
    rejected = err instanceof NetlinkError ? err.code : String(err);
  });
  return { mode, count, handed, atClose, codes: tally(outcomes), late, prefixes, rejected };
}

async function refusals(): Promise<Record<string, unknown>> {
  let overflows = 0;
  const socket = RouteSocket.open({ groups: [], onOverflow: () => void overflows++ });
  const rounds: Outcome[][] = [[], []];
  for (const outcomes of rounds) {
    for (let i = 0; i < count; i++) submit(socket, outcomes, RTM.NEWROUTE, NLM_F.CREATE | NLM_F.EXCL, 'newroute', i);
    await socket.whenIdle();
  }
  const prefixes = await kernelPrefixes(socket);
  await socket.close();
  return { mode, count, overflows, first: tally(rounds[0]), again: tally(rounds[1]), prefixes };
}

const report = mode === 'order' ? await order() : mode === 'close' ? await close() : mode === 'refusals' ? await refusals() : undefined;
if (report === undefined) throw new Error(`send-queue-probe: unknown mode '${mode}'`);
process.stdout.write(`${JSON.stringify(report)}\n`);
