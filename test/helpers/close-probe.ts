/**
 * Closes netlink sockets with a datagram in flight, many times, in a child process whose exit
 * status the test checks (a use after close in the addon is a SIGSEGV, status 139, not a throw).
 * Run inside a lab namespace: every datagram adds 64 blackhole routes (protocol 202) there.
 *
 *   close-probe raw N      nlOpen, nlSendAsync, nlClose at once (the addon alone); N times
 *   close-probe channel N  NetlinkChannel: sendAsync, then `await close()`; N times
 *   close-probe worker N   N worker threads each queue sends on 8 sockets and exit: the
 *                          environment is torn down (cleanup hooks) with sends in flight
 *   close-probe queue N    nlOpen, 50 nlSendAsync, nlClose; N times: callbacks in queue order, the
 *                          sent ones first, then only ECANCELED (order lists any violation)
 *   close-probe callback N a route dump (many datagrams waiting), nlClose from inside the first
 *                          onData: no callback after it (callbacks counts onData calls), N times
 * Prints one JSON line {mode, rounds, callbacks, errors, order} and exits 0 when it got there.
 * Used by test/netlink/close-in-flight.test.ts.
 */
import { createRequire } from 'node:module';
import { isMainThread, Worker, workerData } from 'node:worker_threads';
import { NetlinkChannel } from '../../netlink/rtnetlink/channel.js';
import { NLM_F, RTM, RTN } from '../../netlink/rtnetlink/constants.js';
import { encodeBatch, encodeMessage } from '../../netlink/rtnetlink/message.js';
import { encodeRoute, routeMessage } from '../../netlink/rtnetlink/route.js';

interface Addon {
  nlOpen(groups: number[], rcvbuf: number, sndbuf: number, onData: (b: Buffer) => void, onError: (e: Error) => void): object;
  nlSendAsync(handle: object, buf: Buffer, cb: (err: Error | null, sent?: number) => void): void;
  nlSend(handle: object, buf: Buffer): number;
  nlClose(handle: object): void;
}

const addon = createRequire(import.meta.url)('rack-agent-native') as Addon;

/** 64 blackhole /32s of protocol 202 in 10.<round>.x.y: real work for the kernel inside sendto. */
function datagram(round: number): Buffer {
  const messages = Array.from({ length: 64 }, (_, i) => ({
    type: RTM.NEWROUTE,
    flags: NLM_F.REQUEST | NLM_F.CREATE | NLM_F.REPLACE | (i === 63 ? NLM_F.ACK : 0),
    seq: round * 64 + i + 1,
    payload: encodeRoute(routeMessage({
      family: 4, dstLen: 32, protocol: 202, type: RTN.BLACKHOLE, scope: 0,
      dst: `10.${(round >> 8) & 255}.${round & 255}.${i}`,
    })),
  }));
  return encodeBatch(messages);
}

const mode = isMainThread ? process.argv[2] : 'worker-thread';
const rounds = Number(isMainThread ? process.argv[3] : (workerData as { rounds: number }).rounds);
let callbacks = 0;
const errors: Record<string, number> = {};
const order: string[] = [];

function counted(err: Error | null): void {
  callbacks++;
  if (err !== null) {
    const code = (err as { code?: string }).code ?? 'UNKNOWN';
    errors[code] = (errors[code] ?? 0) + 1;
  }
}

function report(): void {
  process.stdout.write(`${JSON.stringify({ mode, rounds, callbacks, errors, order: order.slice(0, 6) })}\n`);
}

async function main(): Promise<void> {
  switch (mode) {
    case 'raw':
      for (let i = 0; i < rounds; i++) {
        const handle = addon.nlOpen([], 0, 0, () => undefined, () => undefined);
        addon.nlSendAsync(handle, datagram(i), counted);
        addon.nlClose(handle);
      }
      // Every callback must run once; the loop stays alive until the last send is done.
      process.once('beforeExit', report);
      return;
    case 'queue':
      for (let i = 0; i < rounds; i++) {
        const handle = addon.nlOpen([], 0, 0, () => undefined, () => undefined);
        let next = 0;
        let cancelled = false;
        for (let j = 0; j < 50; j++) {
          addon.nlSendAsync(handle, datagram(i * 50 + j), (err) => {
            counted(err);
            if (next++ !== j) order.push(`socket ${i}: callback ${j} ran as number ${next - 1}`);
            const code = (err as { code?: string } | null)?.code;
            if (code === 'ECANCELED') cancelled = true;
            else if (cancelled) order.push(`socket ${i}: datagram ${j} ${code ?? 'sent'} after a cancel`);
          });
        }
        addon.nlClose(handle);
      }
      process.once('beforeExit', report);
      return;
    case 'channel':
      for (let i = 0; i < rounds; i++) {
        const channel = NetlinkChannel.open({ onData: () => undefined, onError: () => undefined });
        channel.sendAsync(datagram(i), (err) => {
          counted(err);
          if (i < 3) order.push(`sent ${i}`);
        });
        await channel.close();
        if (i < 3) order.push(`closed ${i}`);
      }
      report();
      return;
    case 'worker': {
      for (let i = 0; i < rounds; i++) {
        const worker = new Worker(new URL(import.meta.url), { workerData: { rounds: 8 } });
        await new Promise<void>((resolve, reject) => {
          worker.once('error', reject);
          worker.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`worker exited ${code}`))));
        });
        callbacks++;
      }
      report();
      return;
    }
    case 'callback':
      for (let i = 0; i < rounds; i++) {
        let handle: object | null = null;
        const dump = encodeMessage(RTM.GETROUTE, NLM_F.REQUEST | NLM_F.DUMP, i + 1, encodeRoute(routeMessage({ family: 4 })));
        handle = addon.nlOpen([], 0, 0, () => {
          callbacks++;
          if (handle !== null) addon.nlClose(handle);
        }, (err) => counted(err));
        addon.nlSend(handle, dump);
        // The dump's answer is waiting or on its way; the socket closes itself in the first onData.
        const deadline = Date.now() + 5000;
        while (callbacks <= i) {
          if (Date.now() > deadline) throw new Error(`no answer to the dump on socket ${i}`);
          await new Promise<void>((resolve) => setImmediate(resolve));
        }
        if (callbacks > i + 1) throw new Error(`onData ran ${callbacks - i} times on socket ${i}: after nlClose`);
      }
      report();
      return;
    case 'worker-thread':
      // Sockets open, sends queued, and the thread ends at once: only the cleanup hooks are left.
      for (let i = 0; i < rounds; i++) {
        const handle = addon.nlOpen([], 0, 0, () => undefined, () => undefined);
        addon.nlSendAsync(handle, datagram(i), counted);
      }
      process.exit(0);
      return;
    default:
      throw new Error(`close-probe: unknown mode '${mode}'`);
  }
}

await main();
