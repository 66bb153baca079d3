/**
 * Socket options on real kernel sockets: RFC 2385 TCP MD5 and RFC 5082 GTSM between network
 * namespaces (child processes from sockopt-peer.ts), TTL round trips, bad input, and sd_notify.
 * All traffic stays inside each test's own namespaces; namespace tests skip when not root.
 */
import test, { type ExecutionContext } from 'ava';
import { closeSync, mkdtempSync, rmSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  bindSocket, connectWithOptions, createTcpSocket, getTtl, setListenerMd5Key, setMd5Key, setMinTtl,
  setTtl, SocketOptionError, testOnly,
} from '../../agent/session/socket-options.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { useLab } from '../helpers/lab-fixture.js';
import {
  captureOutput, holdsFor, isRoot, type Lab, type Output, rootSkipReason, runPrefix, waitFor,
} from '../helpers/netns.js';
import { sdNotify } from '../../agent/daemon/sd-notify.js';

const peerScript = fileURLToPath(new URL('./sockopt-peer.js', import.meta.url));
const nsTest = isRoot ? test : test.skip;
const skipNote = isRoot ? '' : ` (skipped: ${rootSkipReason})`;

/** How long a connection that must not come up is watched: several SYN retransmissions' worth. */
const NEVER_MS = 3000;
const READY_MS = 10_000;

interface PeerEvent {
  event: string;
  [field: string]: unknown;
}

class Peer {
  private readonly out: Output;

  constructor(readonly name: string, private readonly child: ReturnType<Lab['spawn']>) {
    this.out = captureOutput(child);
  }

  events(): PeerEvent[] {
    return this.out.lines.map((line) => JSON.parse(line) as PeerEvent);
  }

  all(event: string): PeerEvent[] {
    return this.events().filter((e) => e.event === event);
  }

  /** The first `event`; throws at once if the peer died, so a crash is not reported as a timeout. */
  find(event: string): PeerEvent | undefined {
    const found = this.all(event)[0];
    if (found === undefined && (this.child.exitCode !== null || this.child.signalCode !== null)) {
      throw new Error(`${this.name} exited (${this.child.exitCode ?? this.child.signalCode}): ${this.out.stderr()}`);
    }
    return found;
  }

  async waitFor(event: string, what = `${this.name}: ${event}`): Promise<PeerEvent> {
    return waitFor(() => this.find(event), { timeoutMs: READY_MS, what });
  }
}

function startPeer(lab: Lab, ns: string, name: string, args: string[]): Peer {
  return new Peer(name, lab.spawn(ns, process.execPath, [peerScript, ...args]));
}

async function startListener(lab: Lab, ns: string, name: string, args: string[]): Promise<{ peer: Peer; port: number }> {
  const peer = startPeer(lab, ns, name, ['listen', ...args]);
  const { port } = await peer.waitFor('listening');
  return { peer, port: port as number };
}

async function tcpExt(lab: Lab, ns: string, name: string): Promise<number> {
  return (await lab.counter(ns, 'TcpExt', name)) ?? Number.NaN;
}

// ---- 1. TCP MD5 (RFC 2385) ------------------------------------------------------------------

interface Md5Case {
  family: string;
  listenHost: string;
  /** The client's address as the listener's key names it. */
  keyPeer: string;
  /** Where clients connect. */
  target: string;
  /** The listener's view of the client's address. */
  remoteAddress: string;
}

const md5Test = test.macro(async (t, c: Md5Case) => {
  const lab = await useLab(t, 'md5');
  const a = await lab.namespace('a');
  const b = await lab.namespace('b');
  await lab.veth(a, { ipv4: '10.77.0.1', ipv6: 'fd77::1' }, b, { ipv4: '10.77.0.2', ipv6: 'fd77::2' });

  const { peer: listener, port } = await startListener(lab, b, 'listener',
    ['--host', c.listenHost, '--md5', `${c.keyPeer}=rack-secret`, '--accepted-ttl', '200']);
  const base = ['connect', '--host', c.target, '--port', String(port)];

  const good = startPeer(lab, a, 'right-key client',
    [...base, '--md5', 'rack-secret', '--ttl', '77', '--local', c.keyPeer]);
  const connected = await good.waitFor('connected');
  t.is(connected.ttl, 77, 'client TTL set before connect is kept');
  t.is(connected.localAddress, c.keyPeer, 'bound to the source address before connect');
  await waitFor(() => good.all('data').some((e) => e.data === 'echo:ping'), { timeoutMs: READY_MS, what: 'echo of ping' });
  const accepted = await listener.waitFor('connection');
  t.is(accepted.remoteAddress, c.remoteAddress);
  t.is(accepted.ttl, 200, 'setSocketTtl on the accepted socket');

  const failuresBefore = await tcpExt(lab, b, 'TCPMD5Failure');
  const notFoundBefore = await tcpExt(lab, b, 'TCPMD5NotFound');
  const wrong = startPeer(lab, a, 'wrong-key client', [...base, '--md5', 'wrong-secret']);
  const none = startPeer(lab, a, 'no-key client', base);
  const timed = startPeer(lab, a, 'wrong-key client with timeout', [...base, '--md5', 'wrong-secret', '--timeout-ms', '1000']);

  // The kernel drops the SYNs (positive evidence they arrived, signed with the wrong key / unsigned)...
  await waitFor(async () => await tcpExt(lab, b, 'TCPMD5Failure') > failuresBefore,
    { timeoutMs: NEVER_MS, what: 'TcpExtTCPMD5Failure to count the wrong-key SYN' });
  await waitFor(async () => await tcpExt(lab, b, 'TCPMD5NotFound') > notFoundBefore,
    { timeoutMs: NEVER_MS, what: 'TcpExtTCPMD5NotFound to count the unsigned SYN' });
  // ...and neither connection ever comes up.
  await holdsFor(() => listener.all('connection').length === 1 && wrong.find('connected') === undefined &&
    none.find('connected') === undefined, { forMs: NEVER_MS, what: 'no wrong-key or unsigned connection' });
  t.deepEqual(wrong.all('error'), []);
  t.deepEqual(none.all('error'), []);
  const timeout = await timed.waitFor('error');
  t.like(timeout, { code: 'ETIMEDOUT', op: 'connect' });
});

nsTest(`MD5 over IPv4: right key connects, wrong or no key never${skipNote}`, md5Test, {
  family: 'ipv4', listenHost: '10.77.0.2', keyPeer: '10.77.0.1', target: '10.77.0.2', remoteAddress: '10.77.0.1',
});
nsTest(`MD5 over IPv6: right key connects, wrong or no key never${skipNote}`, md5Test, {
  family: 'ipv6', listenHost: 'fd77::2', keyPeer: 'fd77::1', target: 'fd77::2', remoteAddress: 'fd77::1',
});
nsTest(`MD5 on a dual-stack listener with an IPv4 peer (v4-mapped key)${skipNote}`, md5Test, {
  family: 'dual', listenHost: '::', keyPeer: '10.77.0.1', target: '10.77.0.2', remoteAddress: '::ffff:10.77.0.1',
});

// ---- 3. GTSM (RFC 5082) ---------------------------------------------------------------------

interface GtsmCase {
  listenHost: string;
  target: string;
}

const gtsmTest = test.macro(async (t, c: GtsmCase) => {
  const lab = await useLab(t, 'gtsm');
  const a = await lab.namespace('a');
  const r = await lab.namespace('r');
  const b = await lab.namespace('b');
  await lab.veth(a, { ipv4: '10.78.1.1', ipv6: 'fd78:1::1' }, r, { ipv4: '10.78.1.254', ipv6: 'fd78:1::fe' });
  await lab.veth(r, { ipv4: '10.78.2.254', ipv6: 'fd78:2::fe' }, b, { ipv4: '10.78.2.1', ipv6: 'fd78:2::1' });
  await lab.ip(a, 'route', 'add', '10.78.2.0/24', 'via', '10.78.1.254');
  await lab.ip(a, '-6', 'route', 'add', 'fd78:2::/64', 'via', 'fd78:1::fe');
  await lab.ip(b, 'route', 'add', '10.78.1.0/24', 'via', '10.78.2.254');
  await lab.ip(b, '-6', 'route', 'add', 'fd78:1::/64', 'via', 'fd78:2::fe');
  await lab.sysctl(r, 'net.ipv4.ip_forward', 1);
  await lab.sysctl(r, 'net.ipv6.conf.all.forwarding', 1);

  // Control: without GTSM a client in a reaches b through r, so the drop below is GTSM's doing.
  const open = await startListener(lab, b, 'listener without GTSM', ['--host', c.listenHost]);
  const control = startPeer(lab, a, 'control client in a', ['connect', '--host', c.target, '--port', String(open.port)]);
  await control.waitFor('connected', 'a -> r -> b routing (control connection without GTSM)');

  const { peer: listener, port } = await startListener(lab, b, 'GTSM listener', ['--host', c.listenHost, '--min-ttl', '255']);
  const base = ['connect', '--host', c.target, '--port', String(port)];
  const dropsBefore = await lab.counter(b, 'TcpExt', 'TCPMinTTLDrop');
  const direct = startPeer(lab, r, 'client in r, TTL 255', [...base, '--ttl', '255']);
  const oneHop = startPeer(lab, a, 'client in a, TTL 255 (one hop away)', [...base, '--ttl', '255']);
  const defaultTtl = startPeer(lab, r, 'client in r, default TTL', base);

  const connected = await direct.waitFor('connected');
  t.is(connected.ttl, 255);
  await listener.waitFor('connection');
  await holdsFor(() => listener.all('connection').length === 1 && oneHop.find('connected') === undefined &&
    defaultTtl.find('connected') === undefined, { forMs: NEVER_MS, what: 'no connection below the TTL floor' });
  if (dropsBefore === undefined) {
    t.log('kernel has no TcpExtTCPMinTTLDrop counter; relying on the connection checks');
  } else {
    t.true((await lab.counter(b, 'TcpExt', 'TCPMinTTLDrop') ?? 0) > dropsBefore, 'kernel counted GTSM drops');
  }
});

nsTest(`GTSM over IPv4: one hop away is dropped, directly connected TTL 255 connects${skipNote}`, gtsmTest,
  { listenHost: '10.78.2.1', target: '10.78.2.1' });
nsTest(`GTSM over IPv6 (IPV6_MINHOPCOUNT)${skipNote}`, gtsmTest, { listenHost: 'fd78:2::1', target: 'fd78:2::1' });
nsTest(`GTSM on a dual-stack listener with IPv4 clients${skipNote}`, gtsmTest, { listenHost: '::', target: '10.78.2.1' });

// ---- 2. TTL round trip ----------------------------------------------------------------------

for (const family of [4, 6] as const) {
  test(`setTtl/getTtl round trip on an IPv${family} socket`, (t) => {
    const fd = createTcpSocket(family);
    try {
      for (const ttl of [1, 64, 200, 255]) {
        setTtl(fd, ttl);
        t.is(getTtl(fd), ttl);
      }
      setMinTtl(fd, 255);
      setMinTtl(fd, 0);
    } finally {
      closeSync(fd);
    }
  });
}

// ---- 4. Bad input ---------------------------------------------------------------------------

function assertSocketError(t: ExecutionContext, fn: () => unknown, code: string, op: string): void {
  const err = t.throws(fn, { instanceOf: SocketOptionError });
  t.like(err, { code, op });
  t.true((err as SocketOptionError).errno > 0, `${code} has its errno number`);
}

test('bad input: typed SocketOptionErrors, and the process keeps running', async (t) => {
  const closed = createTcpSocket(4);
  closeSync(closed);
  // getTtl only reads: harmless should the closed number be reused by another thread meanwhile.
  assertSocketError(t, () => getTtl(closed), 'EBADF', 'getTtl');
  assertSocketError(t, () => setTtl(2 ** 30, 64), 'EBADF', 'setTtl');

  const fd = createTcpSocket(6);
  try {
    assertSocketError(t, () => setMd5Key(fd, 'not-an-address', 'k'), 'EINVAL', 'setMd5Key');
    assertSocketError(t, () => setMd5Key(fd, '10.0.0.1', Buffer.alloc(81, 1)), 'EINVAL', 'setMd5Key');
    assertSocketError(t, () => setMd5Key(fd, '10.0.0.1', 'x'.repeat(81)), 'EINVAL', 'setMd5Key');
    assertSocketError(t, () => setMd5Key(fd, '10.0.0.1', null), 'ENOENT', 'setMd5Key');
    assertSocketError(t, () => bindSocket(fd, '999.1.1.1', 0), 'EINVAL', 'bindSocket');
    setMd5Key(fd, '10.0.0.1', Buffer.alloc(80, 7)); // the maximum is accepted
    setMd5Key(fd, '10.0.0.1', '');
    t.throws(() => setTtl(fd, 0), { instanceOf: RangeError });
    t.throws(() => setTtl('3' as unknown as number, 64), { instanceOf: TypeError });
  } finally {
    closeSync(fd);
  }
  const v4 = createTcpSocket(4);
  try {
    assertSocketError(t, () => setMd5Key(v4, 'fd00::1', 'k'), 'EAFNOSUPPORT', 'setMd5Key');
  } finally {
    closeSync(v4);
  }
  await t.throwsAsync(connectWithOptions({ host: 'localhost', port: 179 }), { instanceOf: SocketOptionError });
  const server = net.createServer();
  assertSocketError(t, () => setListenerMd5Key(server, '10.0.0.1', 'k'), 'EBADF', 'getFd');
  const ttl = getTtl(createTcpSocketClosedLater(t));
  t.true(ttl >= 1 && ttl <= 255, 'a fresh socket still works afterwards');
});

function createTcpSocketClosedLater(t: ExecutionContext): number {
  const fd = createTcpSocket(4);
  t.teardown(() => closeSync(fd));
  return fd;
}

// ---- 5. sd_notify ---------------------------------------------------------------------------

test('connect timeout on an injected clock: a SYN the listener drops (wrong MD5 key) is ETIMEDOUT when the clock says so', async (t) => {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => server.close());
  setListenerMd5Key(server, '127.0.0.1', 'right');
  const clock = new FakeClock();
  let outcome: unknown;
  void connectWithOptions({ host: '127.0.0.1', port: (server.address() as net.AddressInfo).port, md5Key: 'wrong', timeoutMs: 60_000, clock })
    .then((s) => { s.destroy(); outcome = 'connected'; }, (err: unknown) => { outcome = err; });
  await new Promise((resolve) => setTimeout(resolve, 200));
  clock.advance(59_999);
  await new Promise((resolve) => setImmediate(resolve));
  t.is(outcome, undefined, 'neither connected nor timed out before 60 s of the injected clock');
  clock.advance(1);
  await new Promise((resolve) => setImmediate(resolve));
  t.true(outcome instanceof SocketOptionError);
  t.like(outcome as SocketOptionError, { op: 'connect', code: 'ETIMEDOUT' });
});

test.serial('sdNotify sends to $NOTIFY_SOCKET (path and abstract) and returns false when unset', async (t) => {
  const saved = process.env.NOTIFY_SOCKET;
  const dir = mkdtempSync(join(tmpdir(), 'rack-agent-notify-'));
  t.teardown(() => {
    if (saved === undefined) delete process.env.NOTIFY_SOCKET;
    else process.env.NOTIFY_SOCKET = saved;
    rmSync(dir, { recursive: true, force: true });
  });

  for (const address of [join(dir, 'notify.sock'), `@${runPrefix}notify`]) {
    const fd = testOnly.bindUnixDgram(address);
    t.teardown(() => closeSync(fd));
    process.env.NOTIFY_SOCKET = address;
    t.true(sdNotify('READY=1\nSTATUS=sessions up'));
    const got = await waitFor(() => testOnly.recvUnixDgram(fd), { timeoutMs: 2000, what: `datagram at ${address}` });
    t.is(got.toString(), 'READY=1\nSTATUS=sessions up');
  }

  process.env.NOTIFY_SOCKET = join(dir, 'nobody-here.sock');
  assertSocketError(t, () => sdNotify('WATCHDOG=1'), 'ENOENT', 'sdNotify');
  delete process.env.NOTIFY_SOCKET;
  t.false(sdNotify('READY=1'));
});

test.after.always('no namespace of this run is left behind', async (t) => {
  if (!isRoot) return;
  const { execFileSync } = await import('node:child_process');
  const left = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })
    .split('\n').filter((line) => line.startsWith(runPrefix));
  t.deepEqual(left, []);
});
