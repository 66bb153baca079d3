/**
 * agentctl as an operator runs it: the built bin in a child process, against a ControlServer
 * with fake handlers in this process. Exit statuses and output are SPEC.md's.
 */
import { readFile } from 'node:fs/promises';

import test from 'ava';

import type { ControlHandlers, RouteAnswer } from '../../agent/control/api.js';
import { ControlServer } from '../../agent/control/server.js';
import { holdsFor } from '../helpers/netns.js';
import { CHECK_FAIL, CHECK_WARN, fakeHandlers, type FakeState, memoryLog, SPEC_STATUS } from './fakes.js';
import { agentctl, AGENTCTL, runProgram, socketDir } from './helpers.js';

async function daemon(
  state: FakeState = { converged: true, failStatus: false, refuseReload: false, reloads: 0 },
  overrides: Partial<ControlHandlers> = {},
) {
  const dir = await socketDir();
  const server = new ControlServer({ ...fakeHandlers(state), ...overrides }, { path: dir.path, group: '', log: memoryLog(), waitPollMs: 20 });
  await server.start();
  return { ...dir, state, server, stop: async () => { await server.close(); await dir.cleanup(); } };
}

const SPEC_TEXT = `rack-agent process is running.

IPv4 BGP status
+--------------+---------------+-------+----------+-----------------------------------+
| PEER ADDRESS |   PEER TYPE   | STATE |  SINCE   |               INFO                |
+--------------+---------------+-------+----------+-----------------------------------+
| 10.0.1.1     | node specific | up    | 17:38:47 | Established                       |
| 10.0.1.2     | node specific | start | 17:40:09 | Active Socket: Connection refused |
+--------------+---------------+-------+----------+-----------------------------------+

IPv6 BGP status
No IPv6 peers found.
`;

test('the bin starts with a node shebang', async (t) => {
  t.true((await readFile(AGENTCTL, 'utf8')).startsWith('#!/usr/bin/env node\n'));
});

test('status: SPEC.md layout, no colour codes into a pipe, exit 0', async (t) => {
  // SINCE an hour and a half ago: shown as HH:MM:SS (agentctl runs with TZ=UTC here).
  const since = [new Date(Date.now() - 5400_000), new Date(Date.now() - 5000_000)].map((d) => `${d.toISOString().slice(0, 19)}Z`);
  const peers = SPEC_STATUS.peers.map((peer, i) => ({ ...peer, since: since[i] }));
  const d = await daemon(undefined, { status: () => ({ ...SPEC_STATUS, peers }) });
  try {
    const run = await agentctl(['--socket', d.path, 'status']);
    t.is(run.code, 0, run.stderr);
    t.is(run.stderr, '');
    t.is(run.stdout, SPEC_TEXT.replace('17:38:47', since[0].slice(11, 19)).replace('17:40:09', since[1].slice(11, 19)));
    t.false(run.stdout.includes('\u001b'));
  } finally {
    await d.stop();
  }
});

test('status -o json prints the answer unchanged, with SPEC.md\'s fields', async (t) => {
  const d = await daemon();
  try {
    const run = await agentctl(['status', '-o', 'json'], { RACK_AGENT_SOCKET: d.path });
    t.is(run.code, 0, run.stderr);
    t.is(run.stdout, `${JSON.stringify(SPEC_STATUS)}\n`);
    const status = JSON.parse(run.stdout) as typeof SPEC_STATUS;
    t.is(status.running, true);
    t.is(status.routerId, '10.0.1.13');
    t.is(status.asNumber, 65101);
    t.deepEqual(Object.keys(status.peers[0]).filter((k) => ['address', 'family', 'type', 'asNumber', 'state', 'since', 'info', 'prefixes'].includes(k)).length, 8);
    t.deepEqual(status.fib, { routes: 13, inSync: true });
  } finally {
    await d.stop();
  }
});

test('wait: exit 0 when converged, 1 on timeout, and 0 once convergence comes during the wait', async (t) => {
  const d = await daemon({ converged: false, failStatus: false, refuseReload: false, reloads: 0 });
  try {
    const late = await agentctl(['--socket', d.path, 'wait', '--timeout', '0.3']);
    t.is(late.code, 1, late.stdout + late.stderr);
    t.regex(late.stdout, /^Not converged after 0\.\d s\.\n$/);
    let exited = false;
    const pending = agentctl(['--socket', d.path, 'wait', '--timeout', '60']).finally(() => {
      exited = true;
    });
    await holdsFor(() => !exited, { forMs: 700, what: 'agentctl wait waiting' });
    d.state.converged = true;
    const run = await pending;
    t.is(run.code, 0, run.stderr);
    t.regex(run.stdout, /^Converged \(waited [\d.]+ s\)\.\n$/);
    const json = await agentctl(['--socket', d.path, 'wait', '-o', 'json']);
    t.is(json.code, 0);
    t.deepEqual(JSON.parse(json.stdout), { converged: true, waited: 0 });
  } finally {
    await d.stop();
  }
});

test('wait keeps trying to connect while the agent starts', async (t) => {
  const dir = await socketDir();
  const server = new ControlServer(fakeHandlers(), { path: dir.path, group: '', log: memoryLog() });
  try {
    let exited = false;
    const pending = agentctl(['--socket', dir.path, 'wait', '--timeout', '60']).finally(() => {
      exited = true;
    });
    // Long enough for node to start and fail to connect a few times; it must still be trying.
    await holdsFor(() => !exited, { forMs: 1500, what: 'agentctl wait retrying' });
    await server.start();
    const run = await pending;
    t.is(run.code, 0, run.stderr);
  } finally {
    await server.close();
    await dir.cleanup();
  }
});

test('exit 3 when no agent answers: status says so on stdout, others on stderr', async (t) => {
  const dir = await socketDir();
  try {
    const status = await agentctl(['--socket', dir.path, 'status']);
    t.is(status.code, 3);
    t.is(status.stdout, 'rack-agent process is not running.\n');
    const json = await agentctl(['--socket', dir.path, 'status', '-o', 'json']);
    t.is(json.code, 3);
    t.deepEqual(JSON.parse(json.stdout), { running: false });
    for (const cmd of [['peers'], ['routes'], ['reload'], ['wait', '--timeout', '0']]) {
      const run = await agentctl(['--socket', dir.path, ...cmd]);
      t.is(run.code, 3, cmd.join(' '));
      t.is(run.stdout, '');
      t.regex(run.stderr, /^agentctl: rack-agent process is not running\./);
    }
    const version = await agentctl(['--socket', dir.path, 'version']);
    t.is(version.code, 3);
    t.regex(version.stdout, /^agentctl \d+\.\d+\.\d+\n$/);
  } finally {
    await dir.cleanup();
  }
});

test('exit 2 on usage errors (check --timeout not a positive number among them); --help exit 0', async (t) => {
  for (const args of [[], ['stats'], ['status', '-o', 'yaml'], ['peers', 'not-an-ip'], ['wait', '--timeout', 'x'], ['status', '--bogus'],
    ['check', '--timeout', '0'], ['check', '--timeout', '-1'], ['check', '--timeout', 'x'], ['check', '--timeout', '61'], ['check', 'extra']]) {
    const run = await agentctl(['--socket', '/nonexistent/agent.sock', ...args]);
    t.is(run.code, 2, args.join(' '));
    t.regex(run.stderr, /^agentctl: .+\nUsage: agentctl/);
    t.is(run.stdout, '');
  }
  const help = await agentctl(['--help']);
  t.is(help.code, 0);
  t.regex(help.stdout, /^Usage: agentctl \[--socket PATH\] COMMAND \[-o table\|json\]/);
});

test('exit 1 on an error answer: unknown peer, refused reload, failing handler', async (t) => {
  const d = await daemon();
  try {
    const peer = await agentctl(['--socket', d.path, 'peers', '10.0.9.9']);
    t.is(peer.code, 1);
    t.is(peer.stderr, 'agentctl: NOT_FOUND: no peer 10.0.9.9\n');
    const peerJson = await agentctl(['--socket', d.path, 'peers', '10.0.9.9', '-o', 'json']);
    t.is(peerJson.code, 1);
    t.deepEqual(JSON.parse(peerJson.stdout), { error: { code: 'NOT_FOUND', message: 'no peer 10.0.9.9' } });
    d.state.refuseReload = true;
    const reload = await agentctl(['--socket', d.path, 'reload']);
    t.is(reload.code, 1);
    t.is(reload.stderr, 'Reload refused; the running configuration stays.\n  bgp.peers[0].peerIP: not an IP address\n');
    d.state.failStatus = true;
    const status = await agentctl(['--socket', d.path, 'status']);
    t.is(status.code, 1);
    t.is(status.stderr, "agentctl: INTERNAL: status failed (Error); the agent's log has the details\n");
  } finally {
    await d.stop();
  }
});

test('peers, routes, version, reload print their tables, exit 0', async (t) => {
  const d = await daemon();
  try {
    const peers = await agentctl(['--socket', d.path, 'peers']);
    t.is(peers.code, 0);
    t.regex(peers.stdout, /^\+-+.*\n\| PEER ADDRESS \| PEER AS \|/);
    const one = await agentctl(['--socket', d.path, 'peers', '10.0.1.1']);
    t.regex(one.stdout, /^Peer 10\.0\.1\.1\n {2}Type: {9}node specific, ipv4, AS 64512\n/);
    const routes = await agentctl(['--socket', d.path, 'routes', '--family', 'ipv6']);
    t.is(routes.code, 0);
    t.true(routes.stdout.includes('| fd00:10::/122 | fd00:1::14 | eth0 | 10.0.1.1 |'), routes.stdout);
    t.false(routes.stdout.includes('192.168.'));
    const version = await agentctl(['--socket', d.path, 'version']);
    t.regex(version.stdout, /^agentctl \d+\.\d+\.\d+\nrack-agent 0\.1\.0 \(node r1-n03\)\n$/);
    const reload = await agentctl(['--socket', d.path, 'reload']);
    t.is(reload.code, 0);
    t.is(reload.stdout, 'Reloaded.\n  peers added: 10.0.1.3\n  blocks removed: 192.168.0.0/26\n');
  } finally {
    await d.stop();
  }
});

test('colour codes on a terminal only (script(1) gives agentctl a pty), and never with NO_COLOR', async (t) => {
  const d = await daemon();
  try {
    const command = `${process.execPath} ${AGENTCTL} --socket ${d.path} status`;
    const tty = await runProgram('script', ['-qec', command, '/dev/null']);
    t.is(tty.code, 0, tty.stderr);
    t.true(tty.stdout.includes('\u001b[32mup\u001b[0m'), JSON.stringify(tty.stdout));
    const noColour = await runProgram('script', ['-qec', command, '/dev/null'], { NO_COLOR: '1' });
    t.false(noColour.stdout.includes('\u001b['));
    t.true(noColour.stdout.includes('| up    |'));
  } finally {
    await d.stop();
  }
});

test('a reader that stops early (EPIPE) is not an error', async (t) => {
  const many: RouteAnswer[] = Array.from({ length: 20_000 }, (_, i) => ({
    prefix: `10.${i >> 8}.${i & 255}.0/26`, family: 'ipv4', kind: 'unicast', nextHops: [{ via: '10.0.1.14', dev: 'eth0', peer: '10.0.1.1' }],
  }));
  const d = await daemon(undefined, { routes: () => many });
  try {
    // About 1.5 MB of table into a pipe whose reader leaves after 10 bytes.
    const run = await runProgram('sh', ['-c', `(${process.execPath} ${AGENTCTL} --socket ${d.path} routes; echo "exit $?" >&2) | head -c 10 >/dev/null`]);
    t.is(run.stderr, 'exit 0\n');
  } finally {
    await d.stop();
  }
});

test('check: the table and summary, exit 1 when a row fails, 0 with warnings alone; -o json unchanged; --timeout reaches the daemon', async (t) => {
  const state: FakeState = { converged: true, failStatus: false, refuseReload: false, reloads: 0 };
  const d = await daemon(state);
  try {
    const text = await agentctl(['--socket', d.path, 'check']);
    t.is(text.code, 1, text.stderr);
    const lines = text.stdout.split('\n');
    t.is(lines[1], '|   CHECK    |       TARGET        | STATUS |                         DETAIL                          |');
    t.true(lines.some((l) => l.startsWith('| nexthop    | 10.0.1.14           | fail   | MTU black hole: 1500-byte probes lost, 64-byte answered |')), text.stdout);
    t.is(lines.at(-2), 'FAIL: 4 checks, 2 ok, 1 warn, 1 fail: nexthop 10.0.1.14');
    const json = await agentctl(['--socket', d.path, 'check', '--timeout', '2', '-o', 'json']);
    t.is(json.code, 1);
    t.deepEqual(JSON.parse(json.stdout), CHECK_FAIL);
    t.deepEqual(state.checkTimeouts, [undefined, 2]);
    state.check = CHECK_WARN;
    const warn = await agentctl(['--socket', d.path, 'check']);
    t.is(warn.code, 0, warn.stdout);
    t.regex(warn.stdout, /\nOK: 3 checks, 2 ok, 1 warn, 0 fail\n$/);
    t.is((await agentctl(['--socket', d.path, 'check', '-o', 'json'])).code, 0);
  } finally {
    await d.stop();
  }
  const gone = await agentctl(['--socket', d.path, 'check']);
  t.is(gone.code, 3);
});
