/**
 * SessionManager's reload diff as a table (diffPeers, deepEqual), and the manager on a real
 * listener in a namespace: apply() starts new sessions, stops removed ones with the Cease the
 * peer sees, restarts changed ones and leaves unchanged ones up.
 */

import test from 'ava';
import { deepEqual, diffPeers } from '../../agent/session/manager.js';
import { type Driver, startDriver } from '../helpers/driver-client.js';
import { useLab } from '../helpers/lab-fixture.js';
import { isRoot, waitFor } from '../helpers/netns.js';
import { driverSpec, peerSpec } from './specs.js';
import type { PeerSpec } from '../../agent/contracts/engines.js';

const p1 = peerSpec({ address: '10.0.0.1', localAs: 65101, peerAs: 65100, routerId: '10.0.0.9' });
const p2 = peerSpec({ address: '10.0.0.2', localAs: 65101, peerAs: 65100, routerId: '10.0.0.9' });
const p3 = peerSpec({ address: 'fd00::3', localAs: 65101, peerAs: 65101, routerId: '10.0.0.9' });
const p2hold = { ...p2, holdTime: 30 };
const p2families: PeerSpec = { ...p2, families: ['ipv4'] };
const p2gr: PeerSpec = { ...p2, gracefulRestart: { enabled: true, restartTime: 60 } };
/** Same content, different object identity and key order. */
const p1copy: PeerSpec = JSON.parse(JSON.stringify({ ...p1, families: [...p1.families] })) as PeerSpec;

const keys = (list: readonly PeerSpec[]): string[] => list.map((p) => p.key);

const rows: { title: string; before: PeerSpec[]; after: PeerSpec[]; added: string[]; removed: string[]; changed: string[]; unchanged: string[] }[] = [
  { title: 'nothing to nothing', before: [], after: [], added: [], removed: [], changed: [], unchanged: [] },
  { title: 'first load', before: [], after: [p1, p2], added: ['10.0.0.1', '10.0.0.2'], removed: [], changed: [], unchanged: [] },
  { title: 'everything removed', before: [p1, p2], after: [], added: [], removed: ['10.0.0.1', '10.0.0.2'], changed: [], unchanged: [] },
  { title: 'same specs', before: [p1, p2], after: [p1, p2], added: [], removed: [], changed: [], unchanged: ['10.0.0.1', '10.0.0.2'] },
  { title: 'equal copies are unchanged', before: [p1], after: [p1copy], added: [], removed: [], changed: [], unchanged: ['10.0.0.1'] },
  { title: 'order does not matter', before: [p1, p2], after: [p2, p1], added: [], removed: [], changed: [], unchanged: ['10.0.0.2', '10.0.0.1'] },
  { title: 'a scalar field changed', before: [p1, p2], after: [p1, p2hold], added: [], removed: [], changed: ['10.0.0.2'], unchanged: ['10.0.0.1'] },
  { title: 'an array field changed', before: [p2], after: [p2families], added: [], removed: [], changed: ['10.0.0.2'], unchanged: [] },
  { title: 'a nested field changed', before: [p2], after: [p2gr], added: [], removed: [], changed: ['10.0.0.2'], unchanged: [] },
  { title: 'all four at once', before: [p1, p2], after: [p2hold, p3], added: ['fd00::3'], removed: ['10.0.0.1'], changed: ['10.0.0.2'], unchanged: [] },
];

for (const r of rows) {
  test(`diffPeers: ${r.title}`, (t) => {
    const d = diffPeers(r.before, r.after);
    t.deepEqual(keys(d.added), r.added);
    t.deepEqual(keys(d.removed), r.removed);
    t.deepEqual(keys(d.changed), r.changed);
    t.deepEqual(keys(d.unchanged), r.unchanged);
    // changed carries the new spec
    for (const c of d.changed) t.is(c, r.after.find((p) => p.key === c.key) as PeerSpec);
  });
}

test('deepEqual', (t) => {
  t.true(deepEqual({ a: [1, { b: 2 }] }, { a: [1, { b: 2 }] }));
  t.false(deepEqual({ a: [1, { b: 2 }] }, { a: [1, { b: 3 }] }));
  t.false(deepEqual({ a: 1 }, { a: 1, b: undefined }));
  t.false(deepEqual([1, 2], { 0: 1, 1: 2 }));
  t.false(deepEqual([1, 2], [1, 2, 3]));
  t.false(deepEqual(null, {}));
  t.true(deepEqual(Number.NaN, Number.NaN));
});

const nsTest = isRoot ? test.serial : test.serial.skip;

nsTest('apply(): removed peers get a Cease, changed ones restart, unchanged ones stay up, new ones start', async (t) => {
  const lab = await useLab(t, 'manager');
  const a = await lab.namespace('a');
  const tors = new Map<string, Driver>();
  const node = (n: number): PeerSpec => peerSpec({ address: `10.0.${n}.2`, localAs: 65101, peerAs: 65100, routerId: '10.0.9.9' });
  for (const n of [1, 2, 3, 4]) {
    const ns = await lab.namespace(`t${n}`);
    await lab.veth(a, `10.0.${n}.1/24`, ns, `10.0.${n}.2/24`);
    tors.set(`10.0.${n}.2`, await startDriver(lab, ns, driverSpec([peerSpec({ address: `10.0.${n}.1`, localAs: 65100, peerAs: 65101, routerId: `10.0.${n}.2` })])));
  }
  const agent = await startDriver(lab, a, driverSpec([node(1), node(2), node(3)]));
  await waitFor(async () => { const s = await agent.status(); return s.length === 3 && s.every((x) => x.state === 'Established'); }, { timeoutMs: 15_000, what: 'three sessions Established' });
  const marks = new Map([...tors].map(([k, d]) => [k, d.mark()]));
  const agentMark = agent.mark();
  const diff = await agent.apply([{ ...node(2), holdTime: 30 }, node(3), node(4)]);
  t.deepEqual([diff.added, diff.removed, diff.changed, diff.unchanged], [['10.0.4.2'], ['10.0.1.2'], ['10.0.2.2'], ['10.0.3.2']]);
  const down1 = await tors.get('10.0.1.2')!.waitFor((e) => e.ev === 'down', 'the removed peer to see a Cease', 10_000, marks.get('10.0.1.2'));
  t.regex(down1.reason as string, /Administrative Shutdown: "peer removed from configuration"/);
  const down2 = await tors.get('10.0.2.2')!.waitFor((e) => e.ev === 'down', 'the changed peer to see a Cease', 10_000, marks.get('10.0.2.2'));
  t.regex(down2.reason as string, /"peer configuration changed"/);
  await waitFor(async () => { const s = await agent.status(); return s.length === 3 && s.every((x) => x.state === 'Established'); }, { timeoutMs: 20_000, what: 'the new set Established' });
  t.deepEqual((await agent.status()).map((s) => s.key).sort(), ['10.0.2.2', '10.0.3.2', '10.0.4.2']);
  t.is((await agent.session('10.0.2.2'))?.holdTime, 30);
  const t3 = tors.get('10.0.3.2')!;
  t.false(t3.events.slice(marks.get('10.0.3.2'), t3.mark()).some((e) => e.ev === 'down' || e.ev === 'state'), 'the unchanged session was not touched');
  t.false(agent.events.slice(agentMark, agent.mark()).some((e) => e.ev === 'state' && e.key === '10.0.3.2'));
});
