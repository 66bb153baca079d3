/**
 * The check table (agent/check/checks.ts): from snapshots and probe results to rows, one table
 * row per case, and the answer's `ok` (a warn alone keeps it true, one fail makes it false).
 */
import test from 'ava';

import {
  checkAnswer, fibRow, forwardingRow, nexthopRow, sessionsRow, tunnelRow, type FibInput, type SessionInput,
} from '../../agent/check/checks.js';
import type { ProbeResult } from '../../agent/check/prober.js';
import type { CheckStatus } from '../../agent/control/api.js';
import type { Target } from '../../agent/check/targets.js';

const target = (over: Partial<Target> = {}): Target => ({
  address: '10.0.1.14', family: 4, device: 'eth0', ipip: false, packetBytes: 1500, sizeFrom: 'device', why: ['peer'], routes: 0, ...over,
});
const answered = (rttMs: number): ProbeResult => ({ kind: 'answered', rttMs, attempts: 1 });
const lost: ProbeResult = { kind: 'lost', attempts: 2 };

const hops: [string, Partial<Target>, ProbeResult, ProbeResult, 'ok' | 'warn' | 'fail', RegExp][] = [
  ['both answered', {}, answered(0.123), answered(0.2), 'ok', /^64-byte and 1500-byte DF echoes answered, rtt 0\.12 ms$/],
  ['full size lost: MTU black hole (SPEC.md wording)', {}, answered(0.1), lost, 'fail', /^MTU black hole: 1500-byte probes lost, 64-byte answered \(rtt 0\.10 ms\)$/],
  ['both lost: unreachable', {}, lost, lost, 'fail', /^unreachable: 64-byte echo lost \(2 tries, 5 s\)$/],
  ['small lost, full size refused locally: unreachable', {}, lost, { kind: 'send-error', errno: 'EHOSTUNREACH' }, 'fail', /^unreachable: 64-byte echo lost .*; 1500-byte: not sent: EHOSTUNREACH$/],
  ['ICMP host unreachable', {}, { kind: 'icmp-error', error: 'unreachable', code: 1, mtu: 0, from: '10.0.1.1' }, lost, 'fail', /^unreachable: 64-byte echo ICMP unreachable code 1 from 10\.0\.1\.1/],
  ['network unreachable at send', {}, { kind: 'send-error', errno: 'ENETUNREACH' }, { kind: 'send-error', errno: 'ENETUNREACH' }, 'fail', /^unreachable: 64-byte echo not sent: ENETUNREACH/],
  ['fragmentation needed from a router: warn, PMTUD works', {}, answered(1), { kind: 'icmp-error', error: 'too-big', code: 4, mtu: 1400, from: '10.0.1.1' }, 'warn', /^path MTU 1400 \(ICMP from 10\.0\.1\.1\): 1500-byte DF probes refused, 64-byte answered$/],
  ['EMSGSIZE: the kernel knows a smaller path MTU', {}, answered(1), { kind: 'send-error', errno: 'EMSGSIZE' }, 'warn', /refused locally \(EMSGSIZE\)/],
  ['IPIP and EMSGSIZE: the tunnel MTU is too large for the underlay', { ipip: true, device: 'tunl0', packetBytes: 1520, sizeFrom: 'tunnel' }, answered(1), { kind: 'send-error', errno: 'EMSGSIZE' }, 'fail', /^tunnel MTU too large: 1520-byte outer packets exceed this node's path MTU \(EMSGSIZE\); 64-byte answered; IPIP via tunl0: tunnel mtu 1500 \+ 20$/],
  ['full size time exceeded: fail', {}, answered(1), { kind: 'icmp-error', error: 'time-exceeded', code: 0, mtu: 0, from: '10.0.9.1' }, 'fail', /^1500-byte probes: ICMP time-exceeded from 10\.0\.9\.1; 64-byte answered$/],
  ['small lost, big answered: warn', {}, lost, answered(2), 'warn', /^64-byte probe lost .* but 1500-byte answered$/],
  ['no CAP_NET_RAW: fail, not probed (checkAnswer makes it one probe row)', {}, { kind: 'no-socket', code: 'NO_CAP_NET_RAW', message: 'no CAP_NET_RAW: cannot open a raw ICMP socket (EPERM)' }, { kind: 'no-socket', code: 'NO_CAP_NET_RAW', message: 'x' }, 'fail', /^not probed: no CAP_NET_RAW/],
  ['a socket that kept failing: fail, not probed, never "unreachable"', {}, { kind: 'socket-error', errno: 'EBADF', reopens: 3 }, { kind: 'socket-error', errno: 'EBADF', reopens: 3 }, 'fail', /^not probed: raw ICMP socket failed \(EBADF\), reopened 3 times$/],
  ['out of time: warn', {}, { kind: 'not-sent' }, { kind: 'not-sent' }, 'warn', /^not probed within the 5 s timeout$/],
  ['small answered, big not sent in time: warn', {}, answered(1), { kind: 'not-sent' }, 'warn', /^64-byte answered .*1500-byte probe not sent within the 5 s timeout$/],
  ['IPIP: the size is the tunnel MTU plus 20', { ipip: true, device: 'tunl0', packetBytes: 1500, sizeFrom: 'tunnel' }, answered(1), lost, 'fail', /^MTU black hole: 1500-byte probes lost, 64-byte answered \(rtt 1\.00 ms\); IPIP via tunl0: tunnel mtu 1480 \+ 20$/],
  ['no device known: the size is assumed', { device: '', sizeFrom: 'assumed' }, answered(12.34), answered(13), 'ok', /rtt 12\.3 ms; device unknown, 1500 assumed$/],
];

for (const [name, over, small, big, status, detail] of hops) {
  test(`nexthop: ${name}`, (t) => {
    const row = nexthopRow(target(over), small, big, 5);
    t.is(row.name, 'nexthop');
    t.is(row.target, '10.0.1.14');
    t.is(row.status, status);
    t.regex(row.detail, detail);
    t.is(row.rttMs !== undefined, small.kind === 'answered' || big.kind === 'answered');
  });
}

const session = (address: string, state: string, over: Partial<SessionInput> = {}): SessionInput => ({ address, state, enabled: true, lastError: '', ...over });
const sessionRows: [string, SessionInput[], CheckStatus, RegExp][] = [
  ['all Established', [session('10.0.1.1', 'Established'), session('10.0.1.2', 'Established')], 'ok', /^all Established$/],
  ['one Active, with its last error', [session('10.0.1.1', 'Established'), session('10.0.1.2', 'Active', { lastError: 'Socket: Connection refused' })], 'fail',
    /^1 not Established: 10\.0\.1\.2 Active \(Socket: Connection refused\)$/],
  ['a disabled peer does not count', [session('10.0.1.1', 'Established'), session('10.0.1.2', 'Idle', { enabled: false })], 'ok', /^all Established$/],
  ['no peers at all: warn', [], 'warn', /no enabled peers/],
];
for (const [name, sessions, status, detail] of sessionRows) {
  test(`sessions: ${name}`, (t) => {
    const row = sessionsRow(sessions);
    t.is(row.status, status);
    t.regex(row.detail, detail);
  });
}

const fib = (over: Partial<FibInput>): FibInput => ({ routes: 13, desired: 13, inSync: true, converged: true, pending: 0, errors: [], ...over });
const fibRows: [string, FibInput, CheckStatus, RegExp][] = [
  ['in sync', fib({}), 'ok', /^the kernel matches the RIB \(13 wanted\)$/],
  ['CONFLICT and a refusal: fail, grouped by code', fib({ inSync: false, errors: [
    { prefix: '192.168.0.64/26', code: 'CONFLICT', message: '' }, { prefix: '192.168.1.0/26', code: 'ENETUNREACH', message: '' },
    { prefix: '192.168.0.128/26', code: 'CONFLICT', message: '' }] }), 'fail',
    /^3 not installed: CONFLICT 192\.168\.0\.64\/26 192\.168\.0\.128\/26; ENETUNREACH 192\.168\.1\.0\/26$/],
  ['restart mode: warn', fib({ inSync: false, converged: false }), 'warn', /^starting/],
  ['pending changes: warn', fib({ inSync: false, pending: 7 }), 'warn', /^catching up: 7 changes pending$/],
];
for (const [name, input, status, detail] of fibRows) {
  test(`fib: ${name}`, (t) => {
    const row = fibRow(input);
    t.is(row.status, status);
    t.regex(row.detail, detail);
    t.is(row.target, '13 routes');
  });
}

test('forwarding: 1 ok, 0 fail, unreadable warn', (t) => {
  t.like(forwardingRow('net.ipv4.ip_forward', { value: '1' }), { name: 'forwarding', target: 'net.ipv4.ip_forward', status: 'ok' });
  t.like(forwardingRow('net.ipv4.ip_forward', { value: '0' }), { status: 'fail', detail: '0: this node drops packets it should route' });
  t.like(forwardingRow('net.ipv6.conf.all.forwarding', { error: 'ENOENT' }), { status: 'warn', detail: 'cannot read /proc/sys: ENOENT' });
});

test('tunnel: no row unless wanted; missing and down fail; up ok with its MTU', (t) => {
  t.is(tunnelRow({ wanted: false, device: 'tunl0', link: null }), null);
  t.like(tunnelRow({ wanted: true, device: 'tunl0', link: null }), { status: 'fail', detail: 'missing: IPIP routes cannot be installed' });
  t.like(tunnelRow({ wanted: true, device: 'tunl0', link: { up: false, mtu: 1480, kind: 'ipip' } }), { status: 'fail', detail: 'down (ipip, mtu 1480)' });
  t.like(tunnelRow({ wanted: true, device: 'tunl0', link: { up: true, mtu: 1480, kind: 'ipip' } }), { name: 'tunnel', target: 'tunl0', status: 'ok', detail: 'up (ipip, mtu 1480)' });
});

test('checkAnswer: rows in order, two probes per target; warn alone is ok, one fail is not', (t) => {
  const base = {
    sessions: [session('10.0.1.1', 'Established')], fib: fib({}), forwarding: [{ sysctl: 'net.ipv4.ip_forward', value: { value: '1' } }],
    tunnel: { wanted: true, device: 'tunl0', link: { up: true, mtu: 1480, kind: 'ipip' } }, timeoutS: 5, at: '2026-11-21T17:41:00Z',
  } as const;
  const targets = [target({ address: '10.0.1.1' }), target({ address: '10.0.1.14' })];
  const warnOnly = checkAnswer({ ...base, targets, probes: [answered(1), answered(1), answered(1), { kind: 'send-error', errno: 'EMSGSIZE' }] });
  t.deepEqual(warnOnly.checks.map((c) => `${c.name} ${c.target} ${c.status}`), [
    'sessions 1 peer ok', 'fib 13 routes ok', 'forwarding net.ipv4.ip_forward ok', 'tunnel tunl0 ok', 'nexthop 10.0.1.1 ok', 'nexthop 10.0.1.14 warn',
  ]);
  t.true(warnOnly.ok);
  const failing = checkAnswer({ ...base, targets, probes: [answered(1), answered(1), answered(1), lost] });
  t.false(failing.ok);
  t.is(failing.timeout, 5);
  t.is(failing.at, '2026-11-21T17:41:00Z');
});

const noCap = (family: 4 | 6): ProbeResult => ({ kind: 'no-socket', code: 'NO_CAP_NET_RAW', message: `no CAP_NET_RAW: cannot open a raw ICMP${family === 6 ? 'v6' : ''} socket (EPERM)` });
const probeCases: [string, ProbeResult[], string[]][] = [
  ['no CAP_NET_RAW (both families): one failed probe row, no nexthop rows', [noCap(4), noCap(4), noCap(6), noCap(6)],
    ['probe CAP_NET_RAW fail: cannot probe: CAP_NET_RAW (the agent may not open raw ICMP sockets); 2 next hops not checked']],
  ['a raw socket that kept failing: one failed probe row; the next hop probed before it still has its row',
    [answered(1), answered(1), { kind: 'socket-error', errno: 'EBADF', reopens: 3 }, { kind: 'socket-error', errno: 'EBADF', reopens: 3 }],
    ['nexthop 10.0.1.1 ok: 64-byte and 1500-byte DF echoes answered, rtt 1.00 ms', 'probe raw socket fail: cannot probe: raw ICMP socket failed (EBADF), reopened 3 times; 1 next hop not checked']],
  ['a socket that cannot be opened for another reason: fail too', [answered(1), answered(1), { kind: 'no-socket', code: 'SOCKET_FAILED', message: 'cannot open a raw ICMPv6 socket: EAFNOSUPPORT' }, { kind: 'no-socket', code: 'SOCKET_FAILED', message: 'cannot open a raw ICMPv6 socket: EAFNOSUPPORT' }],
    ['nexthop 10.0.1.1 ok: 64-byte and 1500-byte DF echoes answered, rtt 1.00 ms', 'probe raw socket fail: cannot probe: cannot open a raw ICMPv6 socket: EAFNOSUPPORT; 1 next hop not checked']],
];
for (const [name, probes, want] of probeCases) {
  test(`checkAnswer: ${name}; ok is false`, (t) => {
    const answer = checkAnswer({
      sessions: [session('10.0.1.1', 'Established')], fib: fib({}), forwarding: [], tunnel: { wanted: false, device: 'tunl0', link: null },
      targets: [target({ address: '10.0.1.1' }), target({ address: 'fd00:1::14', family: 6 })], probes, timeoutS: 5, at: '2026-11-21T17:41:00Z',
    });
    t.deepEqual(answer.checks.slice(2).map((c) => `${c.name} ${c.target} ${c.status}: ${c.detail}`), want);
    t.false(answer.ok, 'a gate never passes blind');
  });
}
