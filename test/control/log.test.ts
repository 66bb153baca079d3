import { Writable } from 'node:stream';

import test from 'ava';

import { createLog, isSecretName, redact, REDACTED } from '../../agent/daemon/log.js';
import type { LogConfig } from '../../config/types.js';
import { waitFor } from '../helpers/netns.js';

function capture(config: LogConfig, priorityPrefix?: boolean) {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(...chunk.toString().split('\n').filter((line) => line !== ''));
      done();
    },
  });
  const root = createLog(config, priorityPrefix === undefined ? { stream } : { stream, priorityPrefix });
  return { ...root, lines, settle: (n: number) => waitFor(() => lines.length >= n, { timeoutMs: 2000, what: `${n} log lines` }) };
}

const parse = (line: string): [number, Record<string, unknown>] => {
  const m = /^<(\d)>(\{.*\})$/.exec(line);
  if (m === null) throw new Error(`not a prefixed JSON line: ${line}`);
  return [Number(m[1]), JSON.parse(m[2]) as Record<string, unknown>];
};

test('JSON lines open with the journald priority; children carry component and peer', async (t) => {
  const c = capture({ level: 'debug', format: 'json' });
  const session = c.log.child({ component: 'session', peer: '10.0.1.1' });
  session.info('state change Active -> OpenSent, reason: ConnOpen', { from: 'Active', to: 'OpenSent' });
  session.warn('peer sent a malformed UPDATE');
  c.log.error('netlink failed', { errno: 'ENOBUFS' });
  c.log.child({ component: 'rib' }).debug('prefix 192.168.0.64/26 best path changed');
  await c.settle(4);
  const [info, warn, error, debug] = c.lines.map(parse);
  t.is(info[0], 6);
  t.like(info[1], { level: 'info', component: 'session', peer: '10.0.1.1', from: 'Active', to: 'OpenSent', message: 'state change Active -> OpenSent, reason: ConnOpen' });
  t.regex(info[1].timestamp as string, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  t.is(warn[0], 4);
  t.is(error[0], 3);
  t.like(error[1], { errno: 'ENOBUFS' });
  t.false('component' in error[1]);
  t.is(debug[0], 7);
  t.is(debug[1].component, 'rib');
});

test('level filters, and setLevel applies to children made before it', async (t) => {
  const c = capture({ level: 'info', format: 'json' });
  const child = c.log.child({ component: 'fib' });
  child.debug('hidden');
  child.info('shown 1');
  c.setLevel('debug');
  t.is(c.level(), 'debug');
  child.debug('shown 2');
  c.setLevel('error');
  child.warn('hidden too');
  child.error('shown 3');
  await c.settle(3);
  t.deepEqual(c.lines.map((line) => parse(line)[1].message), ['shown 1', 'shown 2', 'shown 3']);
});

test('text format, with and without the priority prefix', async (t) => {
  const c = capture({ level: 'info', format: 'text' });
  c.log.child({ component: 'session', peer: '10.0.1.1' }).info('Established', { holdTime: 90, reason: 'ok go' });
  c.log.warn('plain');
  await c.settle(2);
  t.regex(c.lines[0], /^<6>\d{4}-\d\d-\d\dT[\d:.]+Z info \[session 10\.0\.1\.1\] Established holdTime=90 reason="ok go"$/);
  t.regex(c.lines[1], /^<4>\S+ warn plain$/);
  const bare = capture({ level: 'info', format: 'text' }, false);
  bare.log.info('no prefix');
  await bare.settle(1);
  t.regex(bare.lines[0], /^\d{4}-\S+ info no prefix$/);
});

test('secret-named fields are redacted at any depth; paths and Errors are kept readable', async (t) => {
  const c = capture({ level: 'info', format: 'json' });
  const cycle: Record<string, unknown> = { name: 'loop' };
  cycle.self = cycle;
  c.log.info('peer configured', {
    password: 'hunter2',
    passwordFile: '/etc/rack-agent/tor1.key',
    peer: { address: '10.0.1.1', md5Key: 'hunter2', nested: [{ secret: 'hunter2', clientSecret: 'hunter2' }] },
    key: 'hunter2',
    err: Object.assign(new Error('bad key file'), { code: 'EACCES' }),
    raw: Buffer.from('hunter2'),
    cycle,
  });
  await c.settle(1);
  t.false(c.lines[0].includes('hunter2'), c.lines[0]);
  const [, entry] = parse(c.lines[0]);
  t.is(entry.password, REDACTED);
  t.is(entry.key, REDACTED);
  t.is(entry.passwordFile, '/etc/rack-agent/tor1.key');
  t.deepEqual(entry.peer, { address: '10.0.1.1', md5Key: REDACTED, nested: [{ secret: REDACTED, clientSecret: REDACTED }] });
  t.like(entry.err as object, { name: 'Error', message: 'bad key file', code: 'EACCES' });
  t.regex((entry.err as { stack: string }).stack, /^Error: bad key file\n/);
  t.is(entry.raw, '<7 bytes>');
  t.deepEqual(entry.cycle, { name: 'loop', self: '[...]' });
});

test('isSecretName and redact', (t) => {
  for (const name of ['password', 'Password', 'md5Key', 'key', 'secret', 'apiKey', 'passwd']) t.true(isSecretName(name), name);
  for (const name of ['passwordFile', 'keepaliveTime', 'keys', 'peer', 'secrets']) t.false(isSecretName(name), name);
  t.deepEqual(redact({ a: [{ password: 'x' }], password: '' }), { a: [{ password: REDACTED }], password: '' });
  t.is(redact('plain'), 'plain');
});
