/** Calico selector syntax: a table of selectors against label sets, and of syntax errors with positions. */

import test from 'ava';
import { RibError } from '../../agent/rib/errors.js';
import { matches, parseSelector } from '../../agent/peers/selector.js';

const worker = { role: 'worker', rack: 'r1', 'topology.kubernetes.io/zone': 'eu-1a' };
const rr = { role: 'route-reflector', rack: 'r2', routeReflector: '224.0.0.1' };
const bare = {};

const rows: { sel: string; worker: boolean; rr: boolean; bare: boolean }[] = [
  { sel: 'all()', worker: true, rr: true, bare: true },
  { sel: '', worker: true, rr: true, bare: true },
  { sel: 'has(routeReflector)', worker: false, rr: true, bare: false },
  { sel: '!has(routeReflector)', worker: true, rr: false, bare: true },
  { sel: "role == 'worker'", worker: true, rr: false, bare: false },
  { sel: 'role == "worker"', worker: true, rr: false, bare: false },
  // Calico: != also matches when the label is absent.
  { sel: "role != 'worker'", worker: false, rr: true, bare: true },
  { sel: "rack in {'r1', 'r3'}", worker: true, rr: false, bare: false },
  { sel: "rack in {}", worker: false, rr: false, bare: false },
  { sel: "rack not in {'r1'}", worker: false, rr: true, bare: true },
  { sel: "has(role) && role != 'route-reflector'", worker: true, rr: false, bare: false },
  { sel: "role == 'worker' || has(routeReflector)", worker: true, rr: true, bare: false },
  { sel: "!(role == 'worker' || has(routeReflector))", worker: false, rr: false, bare: true },
  // && binds tighter than ||.
  { sel: "rack == 'r2' || rack == 'r1' && role == 'route-reflector'", worker: false, rr: true, bare: false },
  { sel: "(rack == 'r2' || rack == 'r1') && role == 'worker'", worker: true, rr: false, bare: false },
  { sel: "!!has(role)", worker: true, rr: true, bare: false },
  { sel: "topology.kubernetes.io/zone == 'eu-1a'", worker: true, rr: false, bare: false },
  { sel: "role contains 'reflect'", worker: false, rr: true, bare: false },
  { sel: "role starts with 'work'", worker: true, rr: false, bare: false },
  { sel: "role ends with 'tor'", worker: false, rr: true, bare: false },
  { sel: "  has( rack )&&rack!='r9'  ", worker: true, rr: true, bare: false },
];

for (const row of rows) {
  test(`selector: ${JSON.stringify(row.sel)}`, (t) => {
    const s = parseSelector(row.sel);
    t.is(matches(s, worker), row.worker, 'worker');
    t.is(matches(s, rr), row.rr, 'route reflector');
    t.is(matches(s, bare), row.bare, 'no labels');
  });
}

test('selector: a label named like a prototype property is just absent', (t) => {
  t.false(matches(parseSelector('has(constructor)'), {}));
  t.true(matches(parseSelector("toString != 'x'"), {}));
});

const errors: { sel: string; at: number; says: RegExp }[] = [
  { sel: "role == worker", at: 8, says: /expected a string/ },
  { sel: "role = 'worker'", at: 5, says: /unexpected character "="/ },
  { sel: "role == 'worker", at: 8, says: /unterminated string/ },
  { sel: 'has(role', at: 8, says: /expected '\)', found the end/ },
  { sel: 'has()', at: 4, says: /expected a word/ },
  { sel: "all() && ", at: 9, says: /expected a label/ },
  { sel: "(has(a)", at: 7, says: /expected '\)'/ },
  { sel: "has(a))", at: 6, says: /unexpected '\)'/ },
  { sel: "rack in {'a' 'b'}", at: 13, says: /expected ',' or '}'/ },
  { sel: "rack in 'a'", at: 8, says: /expected '\{'/ },
  { sel: "rack not {'a'}", at: 9, says: /expected 'in'/ },
  { sel: 'global()', at: 0, says: /unknown function global\(\)/ },
  { sel: 'rack', at: 4, says: /expected an operator after label "rack"/ },
  { sel: 'has(a) has(b)', at: 7, says: /unexpected 'has'/ },
  { sel: 'role starts', at: 11, says: /expected 'with'/ },
];

for (const row of errors) {
  test(`selector error: ${JSON.stringify(row.sel)}`, (t) => {
    const err = t.throws(() => parseSelector(row.sel), { instanceOf: RibError });
    t.is(err?.code, 'SELECTOR_SYNTAX');
    t.is(err?.where, row.at);
    t.regex(err?.message ?? '', row.says);
  });
}
