/**
 * Seeded mutation fuzzing: every mutant of every sample and fixture must decode to a message or
 * throw a BgpError, and nothing else; decoded messages must re-encode and decode to the same value.
 * The seed is printed on failure; FUZZ_SEED and FUZZ_CASES override it.
 */

import { isDeepStrictEqual } from 'node:util';
import test from 'ava';
import { BgpEncodeError, BgpError, contextWith, decodeMessage, encodeMessage, Framer, type CodecContext } from '../../agent/bgp/index.js';
import { fixtureBytes, fixtureContext, loadManifest } from './fixtures.js';
import { samples } from './samples.js';
import { rng } from '../fuzz/mutators.js';

const SEED = Number(process.env.FUZZ_SEED ?? 20261121);
const CASES = Number(process.env.FUZZ_CASES ?? 120_000);


const corpus: { bytes: Uint8Array; ctx: CodecContext }[] = [
  ...samples.map((s) => ({ bytes: encodeMessage(s.message, s.ctx), ctx: s.ctx })),
  ...loadManifest().map((e) => ({ bytes: fixtureBytes(e), ctx: fixtureContext(e) })),
];

const contexts: CodecContext[] = [
  contextWith({}),
  contextWith({ fourOctetAs: false }),
  contextWith({ addPathIpv4: true, addPathIpv6: true }),
  contextWith({ external: true, maxLength: 65535 }),
];

function mutate(src: Uint8Array, r: () => number): Uint8Array {
  let b = Buffer.from(src);
  const n = 1 + Math.floor(r() * 4);
  for (let i = 0; i < n; i++) {
    const at = Math.floor(r() * Math.max(1, b.length));
    switch (Math.floor(r() * 7)) {
      case 0: // flip a byte
        b[at] = Math.floor(r() * 256);
        break;
      case 1: // flip a bit
        b[at] ^= 1 << Math.floor(r() * 8);
        break;
      case 2: // insert bytes
        b = Buffer.concat([b.subarray(0, at), Buffer.from(Array.from({ length: 1 + Math.floor(r() * 8) }, () => Math.floor(r() * 256))), b.subarray(at)]);
        break;
      case 3: // delete bytes
        b = Buffer.concat([b.subarray(0, at), b.subarray(at + 1 + Math.floor(r() * 8))]);
        break;
      case 4: // truncate
        b = b.subarray(0, at);
        break;
      case 5: // boundary values in a 16-bit field
        if (at + 1 < b.length) b.writeUInt16BE([0, 1, 0xff, 0x100, 0xffff, b.length][Math.floor(r() * 6)], at);
        break;
      default: // splice a piece of another corpus message
        {
          const other = corpus[Math.floor(r() * corpus.length)].bytes;
          const from = Math.floor(r() * other.length);
          b = Buffer.concat([b.subarray(0, at), Buffer.from(other.subarray(from, from + 1 + Math.floor(r() * 16))), b.subarray(at)]);
        }
        break;
    }
  }
  // Most of the time keep the header consistent, so mutations reach the message bodies.
  if (b.length >= 19 && r() < 0.8) {
    b.fill(0xff, 0, 16);
    b.writeUInt16BE(Math.min(b.length, 0xffff), 16);
  }
  return new Uint8Array(b.buffer, b.byteOffset, b.length);
}

test(`mutation fuzz: ${CASES} cases, seed ${SEED}`, (t) => {
  const r = rng(SEED);
  const outcomes = { decoded: 0, rejected: 0, reencoded: 0 };
  for (let i = 0; i < CASES; i++) {
    const base = corpus[i % corpus.length];
    const ctx = r() < 0.5 ? base.ctx : contexts[Math.floor(r() * contexts.length)];
    const bytes = mutate(base.bytes, r);
    let msg;
    try {
      msg = decodeMessage(bytes, ctx);
      outcomes.decoded++;
    } catch (err) {
      if (!(err instanceof BgpError) || err.code < 1 || err.code > 7 || !['reset', 'withdraw', 'discard'].includes(err.action)) {
        t.fail(`case ${i} (seed ${SEED}): ${String(err)} for ${Buffer.from(bytes).toString('hex')}`);
        return;
      }
      outcomes.rejected++;
      continue;
    }
    if (msg.type === 'update' && msg.errors) continue;
    let again: Uint8Array;
    try {
      again = encodeMessage(msg, ctx);
    } catch (err) {
      if (err instanceof BgpEncodeError) continue; // e.g. grew past the maximum length
      t.fail(`case ${i} (seed ${SEED}): re-encoding threw ${String(err)} for ${Buffer.from(bytes).toString('hex')}`);
      return;
    }
    const redecoded = decodeMessage(again, ctx);
    if (!isDeepStrictEqual(redecoded, msg)) {
      t.fail(`case ${i} (seed ${SEED}): decode(encode(decode(m))) differs for ${Buffer.from(bytes).toString('hex')}`);
      return;
    }
    outcomes.reencoded++;
  }
  t.log(outcomes);
  t.true(outcomes.decoded > CASES / 20 && outcomes.rejected > CASES / 20, JSON.stringify(outcomes));
});

test('mutants through the framer: messages or a BgpError', (t) => {
  const r = rng(SEED + 1);
  for (let i = 0; i < 20_000; i++) {
    const f = new Framer();
    const bytes = mutate(corpus[i % corpus.length].bytes, r);
    const cut = Math.floor(r() * (bytes.length + 1));
    try {
      f.push(bytes.subarray(0, cut));
      f.push(bytes.subarray(cut));
    } catch (err) {
      if (!(err instanceof BgpError)) {
        t.fail(`framer case ${i}: ${String(err)}`);
        return;
      }
    }
  }
  t.pass();
});
