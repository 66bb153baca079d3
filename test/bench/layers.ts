/**
 * bench:layers (issue 12): what each layer of the receive path keeps per route, in bytes. One
 * process per configuration (this file re-runs itself with --expose-gc and BENCH_LAYER set):
 *   rib       the Rib fed N IPv4 /26 from one iBGP route reflector (framer, decoder, adj-in,
 *             decision, Loc-RIB), RibChanges dropped;
 *   rib+out   the same with an eBGP peer that is sent everything (the outbound stream consumed);
 *   rib+fib   the Rib's changes applied to a Fib (no socket: its desired state, queued);
 *   rib+fib+kernel  and every route marked installed, as after the kernel's answers.
 * Each prints the retained heap plus off-heap memory (after a full GC) before and after the load,
 * and the process's peak RSS. The differences between configurations are the layers' costs.
 * BENCH_PREFIXES changes N (default 1,000,000). No root needed: nothing reaches the kernel.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { decodeMessage, encodeUpdate, Framer, type Prefix, type UpdateMessage } from '../../agent/bgp/index.js';
import { Rib } from '../../agent/rib/rib.js';
import { negotiated as ribNegotiated } from '../rib/helpers.js';
import { peerSpec } from '../session/specs.js';
import { Fib } from '../../netlink/fib/fib.js';
import { markAllInstalled } from './layers-fib.js';
import type { RibChange, Negotiated, PeerSpec } from '../../agent/contracts/engines.js';

const PREFIXES = Number(process.env.BENCH_PREFIXES ?? 1_000_000);
const LAYERS = ['rib', 'rib+out', 'rib+fib', 'rib+fib+kernel'] as const;
const BASE = 0x40000000; // 64.0.0.0/6 pool
const CHUNK = 64 * 1024;

function stream(): Buffer {
  const messages: Uint8Array[] = [];
  const attributes = { origin: 0 as const, asPath: [], nextHop: '10.1.0.1', localPref: 100 };
  for (let i = 0; i < PREFIXES; i += 256) {
    const nlri: Prefix[] = [];
    for (let k = i; k < Math.min(i + 256, PREFIXES); k++) nlri.push({ afi: 1, len: 26, addr: (BASE + k * 64) >>> 0 });
    messages.push(encodeUpdate({ withdrawn: [], attributes, nlri }));
  }
  return Buffer.concat(messages);
}

/** A global peer of the bench node (the session tests' PeerSpec builder; TTL 255 as on a real node). */
function peer(address: string, peerAs: number): PeerSpec {
  return peerSpec({ address, peerAs, localAs: 65100, routerId: '10.1.0.2', type: 'global', ttl: 255, families: ['ipv4'] });
}

/** What OPEN negotiation gives: the RIB tests' builder, IPv4 only. */
function negotiated(p: PeerSpec): Negotiated {
  return ribNegotiated(p, { families: ['ipv4'] });
}

const silent = { error() {}, warn() {}, info() {}, debug() {} };

function retained(): number {
  (globalThis as { gc?: () => void }).gc?.();
  (globalThis as { gc?: () => void }).gc?.();
  const m = process.memoryUsage();
  return m.heapUsed + m.external;
}

function child(layer: string): void {
  const fib = layer.includes('fib') ? new Fib({
    protocol: 201, table: 254, tunnelDevice: 'tunl0', nodeIpv4Address: '10.1.0.2/24', logger: silent, mode: 'restart',
    pools: [{ cidr: '64.0.0.0/6', ipipMode: 'Never', disabled: false }],
  }) : null;
  let pending: (() => void) | undefined;
  const rib = new Rib({
    node: { asNumber: 65100, routerId: '10.1.0.2', clusterId: '', ipv4: '10.1.0.2', ipv6: '' },
    pools: ['64.0.0.0/6'],
    schedule: (fn) => void (pending = fn),
    sink: { changes: (batch: readonly RibChange[]) => fib?.apply(batch), outbound() {}, limitExceeded() {} },
  });
  const tick = (): void => {
    const fn = pending;
    pending = undefined;
    fn?.();
  };
  const rr = peer('10.1.0.1', 65100);
  rib.handle({ type: 'established', peer: rr, negotiated: negotiated(rr) });
  if (layer.includes('out')) {
    const e = peer('10.9.0.1', 65001);
    rib.handle({ type: 'established', peer: e, negotiated: negotiated(e) });
  }
  tick();
  let bytes: Buffer | undefined = stream();
  const before = retained() - bytes.length;
  const framer = new Framer();
  const ctx = negotiated(rr).decode;
  let n = 0;
  for (let at = 0; at < bytes.length; at += CHUNK) {
    for (const frame of framer.push(bytes.subarray(at, at + CHUNK))) {
      rib.handle({ type: 'update', peer: rr, update: decodeMessage(frame, ctx) as UpdateMessage });
      if (++n % 16 === 0) tick();
    }
  }
  tick();
  bytes = undefined;
  if (fib !== null && layer.includes('kernel')) markAllInstalled(fib);
  const after = retained();
  console.log(JSON.stringify({ layer, before, after, peak: process.resourceUsage().maxRSS * 1024, prefixes: rib.prefixCount(), fib: fib?.snapshot().desired ?? 0 }));
}

function main(): void {
  const self = fileURLToPath(import.meta.url);
  const rows = LAYERS.map((layer) => JSON.parse(execFileSync(process.execPath, ['--expose-gc', self], {
    env: { ...process.env, BENCH_LAYER: layer }, encoding: 'utf8', maxBuffer: 1 << 20,
  }).trim().split('\n').pop() ?? '{}') as { layer: string; before: number; after: number; peak: number });
  const mb = (b: number): string => `${(b / 2 ** 20).toFixed(1)} MB`;
  const per = (b: number): string => `${(b / PREFIXES).toFixed(0)} B/route`;
  console.log(`bench:layers  ${PREFIXES.toLocaleString('en')} IPv4 /26 from one iBGP peer; retained heap + external after a full GC`);
  let last = 0;
  for (const r of rows) {
    const d = r.after - r.before;
    console.log(`  ${r.layer.padEnd(15)} retained ${mb(d).padStart(9)} (${per(d)}), this layer ${per(d - last).padStart(12)}; peak RSS ${mb(r.peak)}`);
    last = d;
  }
}

if (process.env.BENCH_LAYER !== undefined) child(process.env.BENCH_LAYER);
else main();
