/**
 * Corpus and crash files of the fuzzer: one input per file, hex text (32 bytes a line) named by
 * the first 16 hex digits of its SHA-1, so a committed corpus diffs readably and re-runs add no
 * duplicates. Crashes get the input and a .txt with the error and the command that replays it.
 * Seeds are the project's own messages: the golden BIRD/FRR captures of test/fixtures/bgp, the
 * codec samples, BFD and rtnetlink messages built with the encoders.
 */

import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { encodeMessage } from '../../agent/bgp/index.js';
import { encodeControl } from '../../agent/bfd/packet.js';
import { encodeError, encodeMessage as encodeNetlink } from '../../netlink/rtnetlink/message.js';
import { encodeRoute, routeMessage } from '../../netlink/rtnetlink/route.js';
import { NLMSG, RTM } from '../../netlink/rtnetlink/constants.js';
import { fixtureBytes, fixtureContext, loadManifest, parseHex } from '../bgp/fixtures.js';
import { samples } from '../bgp/samples.js';
import { flagsFromContext } from './targets.js';

/** test/fixtures/fuzz-corpus in the source tree (this runs from dist/test/fuzz). */
export const CORPUS_ROOT = fileURLToPath(new URL('../../../test/fixtures/fuzz-corpus/', import.meta.url));

export const fileName = (input: Uint8Array): string => `${createHash('sha1').update(input).digest('hex').slice(0, 16)}.hex`;

export function toHex(input: Uint8Array): string {
  const hex = Buffer.from(input).toString('hex');
  return `${hex.replace(/(.{64})/g, '$1\n').trimEnd()}\n`;
}

export function readCorpus(dir: string): Uint8Array[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.hex'))
    .sort()
    .map((f) => parseHex(readFileSync(join(dir, f), 'utf8')));
}

/** Makes `dir` hold exactly `inputs`; returns how many files were added and removed. */
export function writeCorpus(dir: string, inputs: readonly Uint8Array[]): { added: number; removed: number } {
  mkdirSync(dir, { recursive: true });
  const want = new Map(inputs.map((i) => [fileName(i), i]));
  const have = new Set(readdirSync(dir).filter((f) => f.endsWith('.hex')));
  let removed = 0;
  let added = 0;
  for (const f of have) {
    if (!want.has(f)) {
      rmSync(join(dir, f));
      removed++;
    }
  }
  for (const [f, i] of want) {
    if (!have.has(f)) {
      writeFileSync(join(dir, f), toHex(i));
      added++;
    }
  }
  return { added, removed };
}

export function writeCrash(dir: string, target: string, input: Uint8Array, error: string): string {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `${target}-${fileName(input)}`);
  writeFileSync(path, toHex(input));
  writeFileSync(`${path.slice(0, -4)}.txt`, `${error}\n\nreplay: node dist/test/fuzz/main.js --replay ${target} ${path}\n`);
  return path;
}

const bgpSeeds = (): { flags: number; bytes: Uint8Array }[] => [
  ...loadManifest().map((e) => ({ flags: flagsFromContext(fixtureContext(e)), bytes: fixtureBytes(e) })),
  ...samples.map((s) => ({ flags: flagsFromContext(s.ctx), bytes: encodeMessage(s.message, s.ctx) })),
];

const bfd = (state: number, flags: number): Uint8Array =>
  encodeControl({ version: 1, diag: state === 0 ? 7 : 0, state: (['AdminDown', 'Down', 'Init', 'Up'] as const)[state], poll: (flags & 0x20) !== 0, final: (flags & 0x10) !== 0, cpi: (flags & 8) !== 0, auth: false, demand: false, multipoint: false, detectMult: 3, myDiscr: 0x1234, yourDiscr: state === 1 ? 0 : 0x5678, desiredMinTx: 300_000, requiredMinRx: 300_000, requiredMinEchoRx: 0 });

function netlinkSeeds(): Uint8Array[] {
  const routes = [
    routeMessage({ family: 4, dst: '10.1.0.0', dstLen: 16, gateway: '10.0.0.1', oif: 2, priority: 20, protocol: 186, table: 254 }),
    routeMessage({ family: 6, dst: 'fd00:1::', dstLen: 64, gateway: 'fe80::1', oif: 3, table: 1000 }),
    routeMessage({ family: 4, dst: '10.2.0.0', dstLen: 24, multipath: [{ gateway: '10.0.0.1', ifindex: 2, flags: 0, weight: 1 }, { gateway: 'fe80::2', ifindex: 3, flags: 4, weight: 2 }] }),
  ];
  const error = encodeError({ error: -17, request: { type: RTM.NEWROUTE, flags: 0x601, seq: 7 }, message: 'File exists', offset: -1 });
  return [...routes.map((r, i) => encodeNetlink(i === 2 ? RTM.DELROUTE : RTM.NEWROUTE, 0, i + 1, encodeRoute(r))), error, encodeNetlink(NLMSG.DONE, 2, 9, Buffer.alloc(4))];
}

/** The built-in seeds of each target. */
export function seedsFor(target: string): Uint8Array[] {
  switch (target) {
    case 'bgp-message':
      return bgpSeeds().map((s) => Uint8Array.of(s.flags, ...s.bytes));
    case 'bgp-framer': {
      const s = bgpSeeds();
      return s.map((x, i) => Uint8Array.of(x.flags, (i * 37) % 256, ...x.bytes, ...s[(i + 1) % s.length].bytes));
    }
    case 'bfd-control':
      return [bfd(1, 0), bfd(2, 0), bfd(3, 0x20), bfd(3, 0x18), bfd(0, 0)];
    case 'rtnetlink':
      return netlinkSeeds();
    default:
      return [];
  }
}
