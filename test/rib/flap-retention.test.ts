/**
 * A session that flaps forever must not grow the RIB (issue 15, the 1,000-flap scenario of the
 * fabric lab): a ToR peer with 29 blocks comes up, announces them, sends End-of-RIB and goes down,
 * 10,000 times after 1,000 to warm up; the heap used after a forced full GC may not grow by more
 * than 1 MB (100 bytes a flap: one Path, PathSet or memo entry kept per flap is more). Measured:
 * 18-178 KB over the first 10,000, nothing over the next (the path-set sweep's lag, then flat).
 * The GC comes from `--expose-gc` set at run time and a function from a new context (this file
 * runs in its own process).
 */

import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import test from 'ava';
import type { RibSink } from '../../agent/rib/rib.js';
import { announce, down, endOfRib, established, harness, spec } from './helpers.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const heapAfterGc = (): number => {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
};

test('10,000 flaps of a peer with 29 prefixes retain less than 1 MB of heap', (t) => {
  const sink: RibSink = { changes: () => undefined, outbound: () => undefined, limitExceeded: () => undefined };
  const h = harness({ sink });
  const tor = spec('10.1.0.1');
  const blocks = Array.from({ length: 29 }, (_, i) => `192.168.${i >> 2}.${64 * (i % 4)}/26`);
  let held = 0;
  const flaps = (n: number): void => {
    for (let i = 0; i < n; i++) {
      h.feed(established(tor));
      h.feed(announce(tor, blocks, '10.1.0.1'), endOfRib(tor));
      held = h.rib.prefixCount();
      h.feed(down(tor));
    }
  };
  flaps(1000);
  const before = heapAfterGc();
  flaps(10_000);
  const grown = heapAfterGc() - before;
  t.log(`heap grown over 10,000 flaps: ${(grown / 1024).toFixed(0)} KB`);
  t.is(held, 29);
  t.is(h.rib.prefixCount(), 0);
  t.true(grown < 1024 * 1024, `${grown} bytes`);
});
