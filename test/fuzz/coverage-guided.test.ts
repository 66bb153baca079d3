/**
 * The short run of the coverage-guided fuzzer that belongs in `npm test` (`npm run fuzz` is the
 * long one): every committed corpus input and seed of every target passes the oracle, then a few
 * hundred coverage-guided steps per target from a fixed seed find no crash. A failure prints the
 * input in hex; `node dist/test/fuzz/main.js --replay <target> <file>` re-runs a saved one.
 */

import { join } from 'node:path';
import test from 'ava';
import { CORPUS_ROOT, readCorpus, seedsFor } from './corpus.js';
import { Engine } from './engine.js';
import { TARGETS } from './targets.js';

const SEED = Number(process.env.FUZZ_SEED ?? 20261207);
const STEPS: Record<string, number> = { 'bgp-message': 300, 'bgp-framer': 120, 'bfd-control': 100, rtnetlink: 150 };

for (const target of TARGETS) {
  test(`${target.name}: the committed corpus and the seeds pass the oracle`, (t) => {
    const inputs = [...seedsFor(target.name), ...readCorpus(join(CORPUS_ROOT, target.name))];
    t.true(inputs.length > 0);
    for (const input of inputs) {
      t.notThrows(() => target.run(input), Buffer.from(input).toString('hex'));
    }
  });

  test.serial(`${target.name}: ${STEPS[target.name]} coverage-guided steps from seed ${SEED} find no crash`, (t) => {
    const engine = new Engine(target, { seed: SEED });
    try {
      for (const input of [...seedsFor(target.name), ...readCorpus(join(CORPUS_ROOT, target.name))]) engine.consider(input);
      const before = engine.features.size;
      engine.run(performance.now() + 4000, STEPS[target.name]);
      t.log(`${engine.executions} runs, features ${before} -> ${engine.features.size}, corpus ${engine.corpus.length}`);
      const crashes = [...engine.crashes.values()].map((c) => `${c.error.split('\n')[0]} for ${Buffer.from(c.input).toString('hex')}`);
      t.deepEqual(crashes, []);
      t.true(before > 0, 'the coverage probe sees the target');
    } finally {
      engine.stop();
    }
  });
}
