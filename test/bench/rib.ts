/**
 * bench:rib: 1,000,000 IPv4 /26 prefixes with two paths each (two iBGP peers, as from two route
 * reflectors reflecting 1,024 nodes' blocks) through the whole receive path: framer and decoder (as the session runs them), the
 * Rib's import policy, Adj-RIB-In, decision (the two paths are ECMP, decided by peer address) and the
 * RibChange stream, flushed every 16 UPDATEs as the session's digest loop would. Then one peer goes
 * down (a million best-set changes). Prints the CPU and wall time of each phase and the peak RSS of the whole
 * process (the issue's goal: under 300 MB). A benchmark, not a test: it never fails on speed.
 * BENCH_PREFIXES changes the count; BENCH_EXPORT=1 adds an eBGP peer that is sent everything.
 */

import { performance } from 'node:perf_hooks';
import { decodeMessage, encodeUpdate, Framer, type Prefix, type UpdateMessage } from '../../agent/bgp/index.js';
import { negotiated as ribNegotiated } from '../rib/helpers.js';
import { peerSpec } from '../session/specs.js';
import { Rib } from '../../agent/rib/rib.js';
import type { Negotiated, PeerSpec } from '../../agent/contracts/engines.js';

const PREFIXES = Number(process.env.BENCH_PREFIXES ?? 1_000_000);
const EXPORT = process.env.BENCH_EXPORT === '1';
const PER_UPDATE = 256;
const FLUSH_EVERY = 16;
const CHUNK = 64 * 1024;
const BASE = 0x40000000; // 64.0.0.0, inside the pool 64.0.0.0/6

/** One peer's table: each UPDATE carries one node's blocks, reflected (ORIGINATOR_ID = the node). */
function stream(nextHopBase: number, clusterId: string): Buffer {
  const messages: Uint8Array[] = [];
  for (let i = 0, m = 0; i < PREFIXES; i += PER_UPDATE, m++) {
    const nlri: Prefix[] = [];
    for (let k = i; k < Math.min(i + PER_UPDATE, PREFIXES); k++) nlri.push({ afi: 1, len: 26, addr: (BASE + k * 64) >>> 0 });
    // One next hop per UPDATE, from 1024 nodes: as reflected Calico blocks look.
    const nh = nextHopBase + (m % 1024);
    const nextHop = `10.${(nh >> 16) & 255}.${(nh >> 8) & 255}.${nh & 255}`;
    const attributes = { origin: 0 as const, asPath: [], nextHop, localPref: 100, originatorId: nextHop, clusterList: [clusterId] };
    messages.push(encodeUpdate({ withdrawn: [], attributes, nlri }));
  }
  return Buffer.concat(messages);
}

/** A global peer of the bench node (the session tests' PeerSpec builder; TTL 255 as on a real node). */
function peer(address: string, peerAs = 64512): PeerSpec {
  return peerSpec({ address, peerAs, localAs: 64512, routerId: '10.0.0.13', type: 'global', ttl: 255, families: ['ipv4'] });
}

/** What OPEN negotiation gives: the RIB tests' builder, IPv4 only. */
function negotiated(p: PeerSpec): Negotiated {
  return ribNegotiated(p, { families: ['ipv4'] });
}

let changes = 0;
let ecmp = 0;
let sent = 0;
let pending: (() => void) | undefined;
const rib = new Rib({
  node: { asNumber: 64512, routerId: '10.0.0.13', clusterId: '', ipv4: '10.0.0.13', ipv6: '' },
  pools: ['64.0.0.0/6'],
  schedule: (fn) => void (pending = fn),
  sink: {
    changes(batch) {
      changes += batch.length;
      for (const c of batch) if (c.best.length > 1) ecmp++;
    },
    outbound(_peer, item) {
      if (item.kind !== 'update') return;
      for (const g of item.update.announce ?? []) sent += g.prefixes.length;
      sent += item.update.withdraw?.length ?? 0;
    },
    limitExceeded() {},
  },
});
const tick = (): void => {
  const fn = pending;
  pending = undefined;
  fn?.();
};

/** CPU milliseconds (user + system) of this process since `from`: steadier than wall time on a busy machine. */
const cpuSince = (from: NodeJS.CpuUsage): number => {
  const d = process.cpuUsage(from);
  return (d.user + d.system) / 1000;
};

function receive(p: PeerSpec, bytes: Buffer): { wall: number; cpu: number } {
  const framer = new Framer();
  const ctx = negotiated(p).decode;
  const cpu = process.cpuUsage();
  const start = performance.now();
  let n = 0;
  for (let at = 0; at < bytes.length; at += CHUNK) {
    for (const frame of framer.push(bytes.subarray(at, at + CHUNK))) {
      rib.handle({ type: 'update', peer: p, update: decodeMessage(frame, ctx) as UpdateMessage });
      if (++n % FLUSH_EVERY === 0) tick();
    }
  }
  tick();
  return { wall: performance.now() - start, cpu: cpuSince(cpu) };
}

const mb = (kb: number): string => `${(kb / 1024).toFixed(0)} MB`;
const a = peer('10.0.0.1');
const b = peer('10.0.0.2');
// The two reflectors see each node at the same address: equal paths but for the cluster ID, so
// the decision goes down to the router ID (ORIGINATOR_ID: equal) and CLUSTER_LIST (equal length),
// then the peer address; both paths stay in the ECMP set.
let streamA: Buffer | undefined = stream(0x010000, '224.0.0.1');
let streamB: Buffer | undefined = stream(0x010000, '224.0.0.2');
const rssBefore = process.memoryUsage().rss;
rib.handle({ type: 'established', peer: a, negotiated: negotiated(a) });
rib.handle({ type: 'established', peer: b, negotiated: negotiated(b) });
if (EXPORT) {
  const e = peer('10.9.0.1', 65001);
  rib.handle({ type: 'established', peer: e, negotiated: negotiated(e) });
}
tick();

const rss = (): string => `${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MB`;
if (process.env.BENCH_TRACE) console.log('rss after building streams', rss(), 'maxrss', process.resourceUsage().maxRSS >> 10);
// The same bytes through framer and decoder alone: the part of each phase that is not the RIB.
const decodeOnly = ((): { wall: number; cpu: number } => {
  const framer = new Framer();
  const ctx = negotiated(a).decode;
  const cpu = process.cpuUsage();
  const start = performance.now();
  let sum = 0;
  for (let at = 0; at < streamA.length; at += CHUNK) {
    for (const frame of framer.push(streamA.subarray(at, at + CHUNK))) sum += (decodeMessage(frame, ctx) as UpdateMessage).nlri.length;
  }
  if (sum !== PREFIXES) throw new Error(`decoded ${sum} prefixes`);
  return { wall: performance.now() - start, cpu: cpuSince(cpu) };
})();
const t1 = receive(a, streamA);
if (process.env.BENCH_TRACE) console.log('rss after A', rss(), 'heap', (process.memoryUsage().heapUsed / 2 ** 20).toFixed(0), 'ext', (process.memoryUsage().arrayBuffers / 2 ** 20).toFixed(0));
streamA = undefined;
const c1 = changes;
const t2 = receive(b, streamB);
streamB = undefined;
const c2 = changes - c1;
if (process.env.BENCH_TRACE) console.log('rss after B', rss(), 'maxrss', process.resourceUsage().maxRSS >> 10);
const ecmpAfter = ecmp;
const heapFull = process.memoryUsage().heapUsed;
const start3 = performance.now();
const cpu3 = process.cpuUsage();
rib.handle({ type: 'down', peer: a, reason: 'bench', gracefulRestart: null });
tick();
const t3 = { wall: performance.now() - start3, cpu: cpuSince(cpu3) };
const c3 = changes - c1 - c2;
if (process.env.BENCH_TRACE) console.log('rss after down', rss(), 'maxrss', process.resourceUsage().maxRSS >> 10);

const show = (t: { wall: number; cpu: number }): string =>
  `${t.cpu.toFixed(0).padStart(5)} ms CPU (${((t.cpu * 1e6) / PREFIXES).toFixed(0)} ns/prefix), ${t.wall.toFixed(0)} ms wall`;
console.log(`bench:rib  ${PREFIXES.toLocaleString('en')} IPv4 /26 prefixes x 2 paths, ${PER_UPDATE} per UPDATE, flush every ${FLUSH_EVERY} UPDATEs${EXPORT ? ', plus an eBGP peer sent everything' : ''}`);
console.log(`  decode only (baseline):  ${show(decodeOnly)}`);
console.log(`  peer A, full table:     ${show(t1)}; ${c1.toLocaleString('en')} changes`);
console.log(`  peer B, same prefixes:  ${show(t2)}; ${c2.toLocaleString('en')} changes, ${ecmpAfter.toLocaleString('en')} ECMP`);
console.log(`  peer A down (flush):    ${show(t3)}; ${c3.toLocaleString('en')} changes`);
if (EXPORT) console.log(`  sent to the eBGP peer:    ${sent.toLocaleString('en')} announcements and withdrawals`);
console.log(`  Loc-RIB: ${rib.prefixCount().toLocaleString('en')} prefixes, ${rib.interned().attributeSets} attribute sets`);
console.log(`  heap used with both tables: ${mb(heapFull / 1024)}; RSS before the tables: ${mb(rssBefore / 1024)}`);
console.log(`  peak RSS (whole process, maxRSS): ${mb(process.resourceUsage().maxRSS)}  (goal: under 300 MB)`);
