/**
 * The Checker end to end in-process (agent/check/checker.ts, issue 19 item 13), over fake raw
 * socket factories: one that fails with EPERM (no CAP_NET_RAW) makes one failed `probe` row and
 * `ok: false`, never a passing answer with warn rows; one whose socket errors mid-run is reopened
 * (logged) and the probes are still answered, never reported as unreachable next hops.
 */
import test from 'ava';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { Checker } from '../../agent/check/checker.js';
import type { SocketOpener } from '../../agent/check/prober.js';
import type { CheckSources } from '../../agent/check/sources.js';
import type { Log } from '../../agent/contracts/log.js';
import type { CheckAnswer } from '../../agent/control/api.js';
import { FakeClock } from '../helpers/fake-clock.js';

const IPV4 = Buffer.from('4500000000000000400100000a00010e0a00010b', 'hex');
/** The echo reply a host sends to `message`, as a raw IPv4 socket reads it. */
function replyTo(message: Buffer): Buffer {
  const reply = Buffer.from(message);
  reply[0] = 0;
  const ip = Buffer.from(IPV4);
  ip.writeUInt16BE(20 + reply.length, 2);
  return Buffer.concat([ip, reply]);
}

const sources: CheckSources = {
  settings: () => ({ interval: 0, timeout: 2, tunnelDevice: 'tunl0', ipipWanted: false, ipv6: false }),
  sessions: () => [{ address: '10.0.1.1', state: 'Established', enabled: true, lastError: '' }] as unknown as ReturnType<CheckSources['sessions']>,
  fib: () => ({ routes: 2, desired: 2, inSync: true, converged: true, pending: 0, errors: [] }),
  routes: () => [{ prefix: '192.168.0.64/26', kind: 'unicast' as const, installed: true, nextHops: [{ via: '10.0.1.14' }] }],
  link: () => ({ up: true, mtu: 1500, kind: 'veth' }),
  deviceFor: () => 'eth0',
};

function logger(lines: string[]): Log {
  const log: Log = {
    error: (m) => lines.push(`error ${m}`),
    warn: (m) => lines.push(`warn ${m}`),
    info: () => undefined,
    debug: () => undefined,
    child: () => log,
  };
  return log;
}

async function withProcSys(fn: (root: string) => Promise<void>): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), 'rack-check-'));
  try {
    mkdirSync(join(root, 'net/ipv4'), { recursive: true });
    writeFileSync(join(root, 'net/ipv4/ip_forward'), '1\n');
    await fn(root);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

test('a raw socket factory that fails with EPERM: one failed probe row "cannot probe: CAP_NET_RAW", ok false', async (t) => {
  await withProcSys(async (procSys) => {
    const open: SocketOpener = () => {
      throw new Error('Operation not permitted'); // raw-socket's strerror() text for EPERM
    };
    const answer = await new Checker(sources, { log: logger([]), open, procSys }).run(1);
    t.false(answer.ok);
    t.deepEqual(answer.checks.map((c) => `${c.name} ${c.status}`), ['sessions ok', 'fib ok', 'forwarding ok', 'probe fail']);
    t.like(answer.checks[3], { target: 'CAP_NET_RAW' });
    t.regex(answer.checks[3].detail, /^cannot probe: CAP_NET_RAW .*; 2 next hops not checked$/);
  });
});

test('a raw socket that errors mid-run is reopened (logged) and every probe is still answered', async (t) => {
  await withProcSys(async (procSys) => {
    let opened = 0;
    const open: SocketOpener = (family, onDatagram, onError) => {
      const first = opened++ === 0;
      let closed = false;
      return {
        family,
        send(address, message, before, done) {
          if (closed) return void setImmediate(() => done('EBADF'));
          before();
          done(null);
          if (first) {
            // The socket fails after its first packet left (raw-socket emits 'error', then closes it).
            closed = true;
            return void setImmediate(() => onError(new Error('Bad file descriptor')));
          }
          setImmediate(() => onDatagram(replyTo(message), address));
        },
        close() {
          closed = true;
        },
      };
    };
    const lines: string[] = [];
    const answer = await new Checker(sources, { log: logger(lines), open, procSys }).run(2);
    t.true(answer.ok, answer.checks.map((c) => `${c.name} ${c.target} ${c.status}: ${c.detail}`).join('\n'));
    const hops = answer.checks.filter((c) => c.name === 'nexthop');
    t.deepEqual(hops.map((c) => `${c.target} ${c.status}`).sort(), ['10.0.1.1 ok', '10.0.1.14 ok']);
    t.is(opened, 2, 'one reopen');
    t.true(lines.some((l) => /^warn check: raw ICMP socket failed \(EBADF\): reopened/.test(l)), lines.join('\n'));
  });
});

test('check.interval > 0: the periodic runs come on the injected clock, each `interval` after the previous ended', async (t) => {
  await withProcSys(async (procSys) => {
    const open: SocketOpener = () => {
      throw new Error('Operation not permitted');
    };
    const clock = new FakeClock(Date.parse('2026-11-21T17:38:47Z'));
    const answers: CheckAnswer[] = [];
    const periodic: CheckSources = { ...sources, settings: () => ({ ...sources.settings(), interval: 30 }) };
    const checker = new Checker(periodic, { log: logger([]), open, procSys, clock, observe: (a) => answers.push(a) });
    t.teardown(() => checker.close());
    const ran = async (n: number): Promise<boolean> => {
      for (let i = 0; i < 200 && answers.length < n; i++) await new Promise((resolve) => setTimeout(resolve, 5));
      return answers.length >= n;
    };
    checker.start();
    clock.advance(29_999);
    t.false(await ran(1), 'no run before the interval');
    clock.advance(1);
    t.true(await ran(1), 'the first run, 30 s after start on the injected clock');
    t.is(answers[0].at, '2026-11-21T17:39:17Z', 'stamped with the injected clock');
    clock.advance(29_999);
    t.false(await ran(2));
    clock.advance(1);
    t.true(await ran(2), 'the next run, 30 s after the first ended');
  });
});
