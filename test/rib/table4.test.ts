/**
 * The IPv4 table against a Map model: seeded random moves, drains and growth (tombstones,
 * resizes with dirty slots), checking lookups, sizes, the drained changes and the walk.
 */

import test from 'ava';
import type { Prefix } from '../../agent/bgp/prefix.js';
import { PathSets, type PathSet } from '../../agent/rib/path-set.js';
import { makeSource, Path, AttrStore } from '../../agent/rib/path.js';
import { Ipv4Table } from '../../agent/rib/table4.js';

function setup(): { sets: PathSets; states: PathSet[] } {
  const sets = new PathSets(8);
  const attrs = new AttrStore();
  const entry = attrs.intern({ origin: 0, asPath: [] });
  const states = [sets.empty];
  for (let k = 1; k <= 4; k++) {
    const src = makeSource({ key: `10.0.0.${k}`, address: `10.0.0.${k}`, external: false, client: false, bgpId: `10.0.0.${k}`, addressRank: String(k) });
    const path = new Path(src, 0, `10.0.0.${k}`, '', entry, String(k), k, k);
    states.push(sets.put(sets.empty, path));
  }
  return { sets, states };
}

test('Ipv4Table behaves like a Map through growth, tombstones and drains', (t) => {
  const { sets, states } = setup();
  const table = new Ipv4Table(sets);
  const model = new Map<string, PathSet>();
  let tickStart = new Map<string, PathSet>();
  let seed = 7;
  const random = (): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed / 4294967296;
  };
  const keyText = (len: number, addr: number): string => `${addr >>> 0}/${len}`;
  for (let round = 0; round < 40; round++) {
    const moves = Math.floor(random() * 3000);
    for (let m = 0; m < moves; m++) {
      const len = [24, 26, 32, 0][Math.floor(random() * 4)];
      const addr = len === 0 ? 0 : ((Math.floor(random() * 5000) << (32 - len)) | 0);
      const k = keyText(len, addr);
      const old = table.get(len, addr);
      t.is(old, model.get(k) ?? sets.empty);
      const next = states[Math.floor(random() * states.length)];
      if (!tickStart.has(k)) tickStart.set(k, old);
      table.set(len, addr, old, next);
      if (next === sets.empty) model.delete(k);
      else model.set(k, next);
    }
    t.is(table.size, model.size);
    const drained: string[] = [];
    table.drain((p: Prefix, old, now) => drained.push(`${keyText(p.len, p.addr as number)} ${old.id}->${now.id}`));
    const want = [...tickStart]
      .filter(([k, old]) => (model.get(k) ?? sets.empty) !== old)
      .map(([k, old]) => `${k} ${old.id}->${(model.get(k) ?? sets.empty).id}`);
    t.deepEqual(drained.sort(), want.sort(), `round ${round}`);
    tickStart = new Map();
    t.is(table.pending, 0);
    const walked: string[] = [];
    table.forEach((len, key, s) => walked.push(`${keyText(len, key)} ${s.id}`));
    t.deepEqual(walked.sort(), [...model].map(([k, s]) => `${k} ${s.id}`).sort());
  }
});
