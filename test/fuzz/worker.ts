/**
 * One target's fuzzing run, in a worker thread so main.ts can watch it: before each execution
 * the input is copied into the shared buffer and the heartbeat counter bumped, so a hang (an input
 * that never returns) or a worker killed for memory still leaves the input behind. Posts each new
 * crash as found, then the minimised corpus.
 */

import { parentPort, workerData } from 'node:worker_threads';
import { join } from 'node:path';
import { CORPUS_ROOT, readCorpus, seedsFor } from './corpus.js';
import { Engine } from './engine.js';
import { targetByName } from './targets.js';

export interface WorkerInput {
  readonly target: string;
  readonly seconds: number;
  readonly seed: number;
  readonly corpusMax: number;
  /** Int32 heartbeat, Int32 length, then the current input's bytes. */
  readonly shared: SharedArrayBuffer;
}

export type WorkerMessage =
  | { readonly kind: 'crash'; readonly input: Uint8Array; readonly error: string }
  | { readonly kind: 'done'; readonly corpus: Uint8Array[]; readonly executions: number; readonly features: number; readonly found: number };

const data = workerData as WorkerInput;
const head = new Int32Array(data.shared, 0, 2);
const body = new Uint8Array(data.shared, 8);
const post = (m: WorkerMessage): void => parentPort!.postMessage(m);

const target = targetByName(data.target);
const engine = new Engine(target, {
  seed: data.seed,
  maxLength: body.length,
  onInput: (input) => {
    body.set(input.subarray(0, body.length));
    Atomics.store(head, 1, input.length);
    Atomics.add(head, 0, 1);
  },
});
const committed = readCorpus(join(CORPUS_ROOT, target.name));
for (const input of [...seedsFor(target.name), ...committed]) engine.consider(input);
const deadline = performance.now() + data.seconds * 1000;
let reported = 0;
const startCorpus = engine.corpus.length;
while (performance.now() < deadline) {
  engine.run(Math.min(deadline, performance.now() + 500));
  for (const c of [...engine.crashes.values()].slice(reported)) post({ kind: 'crash', input: c.input, error: c.error });
  reported = engine.crashes.size;
}
const found = engine.corpus.length - startCorpus;
const features = engine.features.size;
const executions = engine.executions;
const corpus = engine.minimise([...engine.corpus, ...committed], data.corpusMax);
engine.stop();
post({ kind: 'done', corpus, executions, features, found });
