/**
 * Issue 21: the JIT trigger counts sending too. A reflector receives few prefixes (three per
 * client) and sends many; prefixesOut counts what each outbound item carries, a shared update
 * once however many peers it is handed to, and routeWork turns TurboFan on after OPTIMIZE_AFTER.
 */
import test from 'ava';
import { OPTIMIZE_AFTER, optimizerDeferred, prefixesOut, routeWork } from '../../agent/daemon/v8-flags.js';
import type { OutboundItem } from '../../agent/contracts/engines.js';
import type { Prefix } from '../../agent/bgp/prefix.js';

const p = (i: number): Prefix => ({ afi: 1, len: 26, addr: i * 64 }) as Prefix;
const attributes = { origin: 0, asPath: [], nextHop: '10.0.0.1' } as const;

test('prefixesOut: updates, shared parts, markers', (t) => {
  const shared: OutboundItem = {
    kind: 'shared',
    parts: [{ update: { announce: [{ attributes, prefixes: [p(1), p(2)] }] } }, { except: 'a', update: { withdraw: [p(3)], announce: [{ attributes, prefixes: [p(4)] }] } }],
  };
  t.is(prefixesOut(shared), 4);
  t.is(prefixesOut(shared), 4, 'the same item again, from the cache');
  t.is(prefixesOut({ kind: 'update', update: { withdraw: [p(1)] } }), 1);
  t.is(prefixesOut({ kind: 'end-of-rib', family: 'ipv4' }), 0);
});

test('routeWork turns the optimizer on once enough routes of work were done', (t) => {
  if (process.env.RACK_AGENT_V8_FLAGS !== undefined) return t.pass('flags given by the environment: never deferred');
  t.true(optimizerDeferred());
  routeWork(OPTIMIZE_AFTER - 1);
  t.true(optimizerDeferred());
  routeWork(1);
  t.false(optimizerDeferred());
});
