/**
 * `npm run fuzz`: the coverage-guided fuzzer over every target of targets.ts, one worker thread
 * at a time, for FUZZ_SECONDS in all (default 60, shared by the targets by weight). Starts from
 * the committed corpus (test/fixtures/fuzz-corpus/<target>/) and the built-in seeds, writes the
 * minimised corpus back (at most FUZZ_CORPUS_MAX inputs a target, default 150) and each crash to
 * FUZZ_CRASH_DIR (default fuzz-crashes/) with a reproducer. A worker whose heartbeat stops for
 * FUZZ_HANG_SECONDS (default 10) is a hang; one over 1 GiB of heap is a memory crash: both keep
 * the input that was running. Exit status 1 when anything crashed.
 * Options: FUZZ_TARGETS=a,b  FUZZ_SEED=n;  `main.js --replay <target> <file.hex>` re-runs one input.
 */

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { parseHex } from '../bgp/fixtures.js';
import { CORPUS_ROOT, writeCorpus, writeCrash } from './corpus.js';
import { targetByName, TARGETS } from './targets.js';
import type { WorkerInput, WorkerMessage } from './worker.js';

const WEIGHT: Record<string, number> = { 'bgp-message': 5, 'bgp-framer': 2, 'bfd-control': 1, rtnetlink: 2 };
const MAX_INPUT = 70_000;

function replay(name: string, file: string): void {
  const input = parseHex(readFileSync(file, 'utf8'));
  targetByName(name).run(input);
  console.log(`${name}: ${file} ran without a crash`);
}

async function fuzzTarget(name: string, seconds: number, seed: number, corpusMax: number, crashDir: string, hangMs: number): Promise<number> {
  const shared = new SharedArrayBuffer(8 + MAX_INPUT);
  const head = new Int32Array(shared, 0, 2);
  const current = (): Uint8Array => new Uint8Array(shared, 8, Math.min(MAX_INPUT, Atomics.load(head, 1))).slice();
  const input: WorkerInput = { target: name, seconds, seed, corpusMax, shared };
  const worker = new Worker(new URL('./worker.js', import.meta.url), { workerData: input, resourceLimits: { maxOldGenerationSizeMb: 1024 } });
  let crashes = 0;
  const crash = (bytes: Uint8Array, error: string): void => {
    crashes++;
    console.log(`${name}: CRASH ${error.split('\n')[0]}\n  saved ${writeCrash(crashDir, name, bytes, error)}`);
  };
  await new Promise<void>((resolve) => {
    let last = -1;
    let lastChange = performance.now();
    const watch = setInterval(() => {
      const beat = Atomics.load(head, 0);
      if (beat !== last) {
        last = beat;
        lastChange = performance.now();
      } else if (beat > 0 && performance.now() - lastChange > hangMs) {
        crash(current(), `hang: no progress for ${hangMs} ms`);
        void worker.terminate();
      }
    }, 250);
    worker.on('message', (m: WorkerMessage) => {
      if (m.kind === 'crash') crash(m.input, m.error);
      else {
        const { added, removed } = writeCorpus(join(CORPUS_ROOT, name), m.corpus);
        console.log(`${name}: ${m.executions} runs, ${m.features} features, ${m.found} new inputs; corpus ${m.corpus.length} (+${added} -${removed})`);
      }
    });
    worker.on('error', (err) => crash(current(), `worker died: ${String((err as Error).stack ?? err)}`));
    worker.on('exit', () => {
      clearInterval(watch);
      resolve();
    });
  });
  return crashes;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  if (args[0] === '--replay') return replay(args[1], args[2]);
  const seconds = Number(process.env.FUZZ_SECONDS ?? 60);
  const seed = Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31);
  const names = (process.env.FUZZ_TARGETS ?? TARGETS.map((t) => t.name).join(',')).split(',');
  const corpusMax = Number(process.env.FUZZ_CORPUS_MAX ?? 150);
  const crashDir = process.env.FUZZ_CRASH_DIR ?? 'fuzz-crashes';
  const hangMs = Number(process.env.FUZZ_HANG_SECONDS ?? 10) * 1000;
  const total = names.reduce((n, t) => n + (WEIGHT[t] ?? 1), 0);
  console.log(`fuzz: ${names.join(', ')} for ${seconds} s, seed ${seed}`);
  let crashes = 0;
  for (const name of names) {
    targetByName(name);
    crashes += await fuzzTarget(name, (seconds * (WEIGHT[name] ?? 1)) / total, seed, corpusMax, crashDir, hangMs);
  }
  console.log(crashes === 0 ? 'fuzz: no crashes' : `fuzz: ${crashes} crash(es) in ${crashDir}/`);
  process.exitCode = crashes === 0 ? 0 : 1;
}

await main();
