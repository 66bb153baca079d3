/**
 * bench:codec: decode UPDATEs carrying 1,000,000 IPv4 /26 prefixes packed as BIRD 2 sends them
 * (256 prefixes per UPDATE, 3,907 messages, about 5.2 MB), arriving as 64 KiB TCP chunks through
 * the framer, and visit every prefix. Prints the best and median of several runs and the time per
 * prefix, and, measured in the same run, the CPU BIRD 2 spends receiving the same table over a real
 * session (BENCH_BIRD=0 skips it). A benchmark, not a test: it never fails on speed.
 */

import { performance } from 'node:perf_hooks';
import { birdReceive } from './bird-receive.js';
import { decodeMessage, DEFAULT_CONTEXT, encodeUpdate, Framer, type Prefix, type UpdateMessage } from '../../agent/bgp/index.js';

const PREFIXES = Number(process.env.BENCH_PREFIXES ?? 1_000_000);
const PER_UPDATE = 256;
const RUNS = Number(process.env.BENCH_RUNS ?? 7);
const CHUNK = 64 * 1024;

function buildStream(): Buffer {
  const attributes = {
    origin: 0 as const,
    asPath: [{ type: 'sequence' as const, asns: [65100] }],
    nextHop: '10.0.1.1',
    localPref: 100,
  };
  const messages: Uint8Array[] = [];
  for (let i = 0; i < PREFIXES; i += PER_UPDATE) {
    const nlri: Prefix[] = [];
    for (let k = i; k < Math.min(i + PER_UPDATE, PREFIXES); k++) nlri.push({ afi: 1, len: 26, addr: (0x0a000000 + k * 64) >>> 0 });
    messages.push(encodeUpdate({ withdrawn: [], attributes, nlri }));
  }
  return Buffer.concat(messages);
}

function run(stream: Buffer): { ms: number; prefixes: number; messages: number; checksum: number } {
  const framer = new Framer();
  let prefixes = 0;
  let messages = 0;
  let checksum = 0;
  const start = performance.now();
  for (let at = 0; at < stream.length; at += CHUNK) {
    for (const frame of framer.push(stream.subarray(at, at + CHUNK))) {
      const u = decodeMessage(frame, DEFAULT_CONTEXT) as UpdateMessage;
      messages++;
      for (const p of u.nlri) {
        checksum = (checksum + (p.addr as number) + p.len) % 0x7fffffff;
        prefixes++;
      }
    }
  }
  return { ms: performance.now() - start, prefixes, messages, checksum };
}

const stream = buildStream();
const times: number[] = [];
let last = run(stream); // warm-up
for (let i = 0; i < RUNS; i++) {
  last = run(stream);
  times.push(last.ms);
}
times.sort((a, b) => a - b);
const best = times[0];
const median = times[Math.floor(times.length / 2)];
console.log(`bench:codec  ${last.prefixes.toLocaleString('en')} IPv4 /26 prefixes in ${last.messages.toLocaleString('en')} UPDATEs, ${(stream.length / 1e6).toFixed(2)} MB, ${RUNS} runs`);
console.log(`  decode + visit: best ${(best / 1000).toFixed(3)} s, median ${(median / 1000).toFixed(3)} s, ${((median * 1e6) / last.prefixes).toFixed(0)} ns per prefix`);
console.log(`  target: under 0.5 s (${(median / 500).toFixed(2)}x of the target used)`);
console.log(`  checksum ${last.checksum}`);

if (process.env.BENCH_BIRD !== '0') {
  const bird = await birdReceive(PREFIXES);
  if (typeof bird === 'string') {
    console.log(`  BIRD 2 reference skipped: ${bird}`);
  } else {
    console.log(`  BIRD 2 receiving the same table over eBGP into its RIB: ${bird.cpuSeconds.toFixed(2)} s CPU (${bird.wallSeconds.toFixed(1)} s wall)`);
    console.log(`  ratio rack-agent decode / BIRD 2 receive: ${(median / 1000 / bird.cpuSeconds).toFixed(2)} (BIRD's figure also covers its RIB and socket reads)`);
  }
}
