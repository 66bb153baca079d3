/** `agentctl check` text (agent/check/render.ts): SPEC.md's columns, the summary line, colour. */
import test from 'ava';

import { renderCheck, summaryLine } from '../../agent/control/render.js';
import { CHECK_FAIL, CHECK_WARN } from '../control/fakes.js';

test('the table CHECK | TARGET | STATUS | DETAIL, then one summary line naming the failures', (t) => {
  t.is(renderCheck(CHECK_FAIL), `+------------+---------------------+--------+---------------------------------------------------------+
|   CHECK    |       TARGET        | STATUS |                         DETAIL                          |
+------------+---------------------+--------+---------------------------------------------------------+
| sessions   | 2 peers             | ok     | all Established                                         |
| forwarding | net.ipv4.ip_forward | ok     | on                                                      |
| nexthop    | 10.0.1.13           | warn   | not probed: no CAP_NET_RAW                              |
| nexthop    | 10.0.1.14           | fail   | MTU black hole: 1500-byte probes lost, 64-byte answered |
+------------+---------------------+--------+---------------------------------------------------------+
FAIL: 4 checks, 2 ok, 1 warn, 1 fail: nexthop 10.0.1.14
`);
  t.is(summaryLine(CHECK_WARN), 'OK: 3 checks, 2 ok, 1 warn, 0 fail');
});

test('more than five failures are counted, not listed', (t) => {
  const checks = Array.from({ length: 7 }, (_, i) => ({ name: 'nexthop', target: `10.0.1.${i}`, status: 'fail' as const, detail: 'unreachable' }));
  t.is(summaryLine({ ok: false, checks, timeout: 5, at: '' }),
    'FAIL: 7 checks, 0 ok, 0 warn, 7 fail: nexthop 10.0.1.0, nexthop 10.0.1.1, nexthop 10.0.1.2, nexthop 10.0.1.3, nexthop 10.0.1.4, and 2 more');
});

test('colour on STATUS only when asked; a detail with escapes is made safe', (t) => {
  const coloured = renderCheck(CHECK_FAIL, { colour: true });
  t.true(coloured.includes('\u001b[31mfail\u001b[0m'));
  t.false(renderCheck(CHECK_FAIL).includes('\u001b['));
  const evil = renderCheck({ ok: true, checks: [{ name: 'sessions', target: 'x', status: 'ok', detail: 'a\u001b[2Jb' }], timeout: 5, at: '' });
  t.true(evil.includes('a?[2Jb'));
});
