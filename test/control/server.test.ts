import { spawn } from 'node:child_process';
import { lstat, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import test from 'ava';

import { ControlError } from '../../agent/control/errors.js';
import { ControlServer, type ControlServerOptions } from '../../agent/control/server.js';
import { waitFor } from '../helpers/netns.js';
import { fakeHandlers, type FakeState, memoryLog, SPEC_STATUS } from './fakes.js';
import { ask, rawClient, socketDir } from './helpers.js';

const isRoot = process.getuid?.() === 0;

async function started(options: Partial<ControlServerOptions> = {}, state?: FakeState) {
  const dir = await socketDir();
  const log = memoryLog();
  const fake: FakeState = state ?? { converged: true, failStatus: false, refuseReload: false, reloads: 0 };
  const server = new ControlServer(fakeHandlers(fake), { path: dir.path, group: '', log, waitPollMs: 20, ...options });
  await server.start();
  return {
    ...dir, server, log, fake,
    stop: async () => {
      await server.close();
      await dir.cleanup();
    },
  };
}

test('answers every command with {id, ok, data}', async (t) => {
  const s = await started();
  try {
    t.deepEqual(await ask(s.path, { id: 1, cmd: 'status' }), { id: 1, ok: true, data: SPEC_STATUS });
    const peers = await ask(s.path, { id: 'p', cmd: 'peers', args: { address: '10.0.1.2' } });
    t.is(peers.id, 'p');
    t.is((peers.data as { address: string }[])[0].address, '10.0.1.2');
    t.is(((await ask(s.path, { id: 2, cmd: 'routes', args: { family: 'ipv6' } })).data as unknown[]).length, 1);
    t.deepEqual(await ask(s.path, { id: 3, cmd: 'version' }), { id: 3, ok: true, data: { version: '0.1.0', node: 'r1-n03' } });
    t.deepEqual(await ask(s.path, { id: 4, cmd: 'wait', args: { timeout: 0 } }), { id: 4, ok: true, data: { converged: true, waited: 0 } });
    const reload = await ask(s.path, { id: 5, cmd: 'reload' });
    t.true(reload.ok, JSON.stringify(reload));
    t.is(s.fake.reloads, 1);
  } finally {
    await s.stop();
  }
});

test('socket file is mode 0660 with our group, replaced when stale, removed at close', async (t) => {
  const dir = await socketDir();
  try {
    // A stale socket: its agent was killed, so nobody removed the file.
    const child = spawn(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(dir.path)}, () => console.log('up'))`]);
    await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
    child.kill('SIGKILL');
    await new Promise<void>((resolve) => child.once('exit', () => resolve()));
    t.true((await lstat(dir.path)).isSocket(), 'the stale socket file is there');
    const server = new ControlServer(fakeHandlers(), { path: dir.path, group: '', log: memoryLog() });
    await server.start(); // bind(2) would fail with EADDRINUSE had the stale file stayed
    try {
      const st = await stat(dir.path);
      t.is(st.mode & 0o777, 0o660);
      t.is(st.gid, process.getgid?.() ?? 0);
      t.true((await ask(dir.path, { id: 1, cmd: 'version' })).ok as boolean);
    } finally {
      await server.close();
    }
    await t.throwsAsync(lstat(dir.path), { code: 'ENOENT' });
  } finally {
    await dir.cleanup();
  }
});

test('refuses to start when another process answers on the socket, and leaves it alone', async (t) => {
  const s = await started();
  try {
    const second = new ControlServer(fakeHandlers(), { path: s.path, group: '', log: memoryLog() });
    const err = await t.throwsAsync(second.start(), { instanceOf: ControlError });
    t.is(err?.code, 'ALREADY_RUNNING');
    t.true((await ask(s.path, { id: 1, cmd: 'version' })).ok as boolean, 'the first still answers');
  } finally {
    await s.stop();
  }
});

test('refuses a path that is not a socket, and an unknown group', async (t) => {
  const dir = await socketDir();
  try {
    await writeFile(dir.path, 'precious');
    const err = await t.throwsAsync(new ControlServer(fakeHandlers(), { path: dir.path, group: '', log: memoryLog() }).start());
    t.is((err as ControlError).code, 'NOT_A_SOCKET');
    const other = join(dir.dir, 'b.sock');
    const err2 = await t.throwsAsync(new ControlServer(fakeHandlers(), { path: other, group: 'no-such-group-ra', log: memoryLog() }).start());
    t.is((err2 as ControlError).code, 'GROUP_NOT_FOUND');
    const err3 = await t.throwsAsync(new ControlServer(fakeHandlers(), { path: other, group: 'bad group;', log: memoryLog() }).start());
    t.is((err3 as ControlError).code, 'GROUP_NOT_FOUND');
    await t.throwsAsync(lstat(other), { code: 'ENOENT' });
  } finally {
    await dir.cleanup();
  }
});

test('bad requests get BAD_REQUEST / UNKNOWN_COMMAND on the same connection, which stays usable', async (t) => {
  const s = await started();
  const client = await rawClient(s.path);
  try {
    client.send('hello\n{"id":1}\n{"id":2,"cmd":"launch"}\n[]\n{"id":3,"cmd":"status"}\n');
    const answers = await client.answersAtLeast(5);
    t.deepEqual(answers.map((a) => [a.id, a.ok, (a.error as { code?: string } | undefined)?.code]), [
      [null, false, 'BAD_REQUEST'], [1, false, 'BAD_REQUEST'], [2, false, 'UNKNOWN_COMMAND'], [null, false, 'BAD_REQUEST'], [3, true, undefined],
    ]);
    t.is(s.log.entries.filter((e) => e.message === 'bad control request').length, 1, 'one warning per client');
  } finally {
    client.close();
    await s.stop();
  }
});

test('pipelined requests are answered in order', async (t) => {
  const s = await started();
  const client = await rawClient(s.path);
  try {
    const cmds = ['status', 'wait', 'version', 'reload', 'peers', 'routes'];
    client.send(cmds.map((cmd, id) => JSON.stringify({ id, cmd, args: cmd === 'wait' ? { timeout: 1 } : {} })).join('\n') + '\n');
    const answers = await client.answersAtLeast(cmds.length);
    t.deepEqual(answers.map((a) => a.id), [0, 1, 2, 3, 4, 5]);
    t.true(answers.every((a) => a.ok === true));
  } finally {
    client.close();
    await s.stop();
  }
});

test('a throwing handler is INTERNAL: no stack, no secret, logged in full', async (t) => {
  const fake = { converged: true, failStatus: true, refuseReload: false, reloads: 0 };
  const s = await started({}, fake);
  try {
    const answer = await ask(s.path, { id: 9, cmd: 'status' });
    t.is(answer.ok, false);
    const error = answer.error as { code: string; message: string };
    t.is(error.code, 'INTERNAL');
    t.is(error.message, "status failed (Error); the agent's log has the details");
    t.false(JSON.stringify(answer).includes('s3cr3t'));
    t.false(JSON.stringify(answer).includes('at '));
    const logged = s.log.entries.find((e) => e.message === 'control handler failed');
    t.truthy(logged);
    t.is((logged?.meta.err as Error).message.includes('s3cr3t'), true, 'the log keeps the cause (log.ts redacts by key)');
    fake.failStatus = false;
    t.is((await ask(s.path, { id: 10, cmd: 'status' })).ok, true, 'and the next request is fine');
  } finally {
    await s.stop();
  }
});

test('a handler may answer with its own ControlError code', async (t) => {
  const s = await started();
  try {
    const answer = await ask(s.path, { id: 1, cmd: 'peers', args: { address: '10.9.9.9' } });
    t.deepEqual(answer, { id: 1, ok: false, error: { code: 'NOT_FOUND', message: 'no peer 10.9.9.9' } });
  } finally {
    await s.stop();
  }
});

test('reload needs root: refused for another uid and when the caller is unknown', async (t) => {
  let who: { pid: number; uid: number; gid: number } | null = { pid: 1, uid: 1000, gid: 1000 };
  const s = await started({ peerCredentials: () => who });
  try {
    const answer = await ask(s.path, { id: 1, cmd: 'reload' });
    t.deepEqual(answer.error, { code: 'NOT_PERMITTED', message: 'reload needs root' });
    t.is((await ask(s.path, { id: 2, cmd: 'status' })).ok, true, 'reading is fine');
    who = null;
    t.is((await ask(s.path, { id: 3, cmd: 'reload' }) as { error: { code: string } }).error.code, 'NOT_PERMITTED');
    t.is(s.fake.reloads, 0);
    who = { pid: 1, uid: 0, gid: 0 };
    t.is((await ask(s.path, { id: 4, cmd: 'reload' })).ok, true);
    t.is(s.fake.reloads, 1);
  } finally {
    await s.stop();
  }
});

test('the kernel names the caller (SO_PEERCRED)', async (t) => {
  const seen: { uid: number; pid: number }[] = [];
  const { peerCredentials } = await import('../../agent/control/peer-credentials.js');
  const s = await started({
    peerCredentials: (socket) => {
      const who = peerCredentials(socket);
      if (who !== null) seen.push(who);
      return who;
    },
  });
  try {
    t.is((await ask(s.path, { id: 1, cmd: 'reload' })).ok, isRoot);
    t.deepEqual(seen, [{ uid: process.getuid?.(), pid: process.pid, gid: process.getgid?.() }]);
  } finally {
    await s.stop();
  }
});

test('a line over the bound gets TOO_LARGE and the connection closes', async (t) => {
  const s = await started({ maxRequestBytes: 1000 });
  const client = await rawClient(s.path);
  try {
    client.send(`{"id":1,"cmd":"version"}\n${'x'.repeat(5000)}`);
    const answers = await client.answersAtLeast(2);
    t.is(answers[0].ok, true);
    t.deepEqual(answers[1], { id: null, ok: false, error: { code: 'TOO_LARGE', message: 'request longer than 1000 bytes' } });
    await waitFor(() => client.closed(), { timeoutMs: 5000, what: 'the server to close the connection' });
    await waitFor(() => s.server.clients === 0, { timeoutMs: 5000, what: 'the server to forget the client' });
  } finally {
    client.close();
    await s.stop();
  }
});

test('wait answers when converged() turns true, or at its timeout', async (t) => {
  const fake = { converged: false, failStatus: false, refuseReload: false, reloads: 0 };
  const s = await started({}, fake);
  try {
    const timedOut = await ask(s.path, { id: 1, cmd: 'wait', args: { timeout: 0.2 } });
    t.is((timedOut.data as { converged: boolean }).converged, false);
    const client = await rawClient(s.path);
    client.send('{"id":2,"cmd":"wait","args":{"timeout":30}}\n');
    const idle = client.answers.length;
    t.is(idle, 0);
    fake.converged = true;
    const [answer] = await client.answersAtLeast(1);
    t.is((answer.data as { converged: boolean }).converged, true);
    client.close();
  } finally {
    await s.stop();
  }
});

test('a waiting client that leaves, and close() during a wait, end the wait', async (t) => {
  const fake = { converged: false, failStatus: false, refuseReload: false, reloads: 0 };
  const s = await started({}, fake);
  const gone = await rawClient(s.path);
  gone.send('{"id":1,"cmd":"wait","args":{"timeout":600}}\n');
  await waitFor(() => s.server.waiting === 1, { timeoutMs: 5000, what: 'the wait to start' });
  gone.close();
  await waitFor(() => s.server.waiting === 0, { timeoutMs: 5000, what: 'the wait to end' });
  const staying = await rawClient(s.path);
  staying.send('{"id":2,"cmd":"wait","args":{"timeout":600}}\n');
  await waitFor(() => s.server.waiting === 1, { timeoutMs: 5000, what: 'the second wait' });
  await s.stop();
  await waitFor(() => staying.closed(), { timeoutMs: 5000, what: 'close() to drop the waiting client' });
  t.pass();
});

test('one client too many is answered BUSY', async (t) => {
  const s = await started({ maxClients: 2 });
  const a = await rawClient(s.path);
  const b = await rawClient(s.path);
  try {
    await waitFor(() => s.server.clients === 2, { timeoutMs: 5000, what: 'two clients' });
    const c = await rawClient(s.path);
    const [answer] = await c.answersAtLeast(1);
    t.is((answer.error as { code: string }).code, 'BUSY');
    await waitFor(() => c.closed(), { timeoutMs: 5000, what: 'the third to be closed' });
    a.close();
    await waitFor(() => s.server.clients === 1, { timeoutMs: 5000, what: 'a to leave' });
    t.is((await ask(s.path, { id: 1, cmd: 'version' })).ok, true);
  } finally {
    a.close();
    b.close();
    await s.stop();
  }
});

test('an idle client is closed after the idle timeout', async (t) => {
  const s = await started({ idleTimeoutMs: 100 });
  const client = await rawClient(s.path);
  try {
    await waitFor(() => client.closed(), { timeoutMs: 5000, what: 'the idle client to be closed' });
    t.is(s.server.clients, 0);
  } finally {
    client.close();
    await s.stop();
  }
});

test('converged() throwing during a wait is INTERNAL, and the server goes on', async (t) => {
  const s = await started();
  const handlers = (s.server as unknown as { handlers: { converged: () => boolean } }).handlers;
  let calls = 0;
  handlers.converged = () => {
    calls += 1;
    if (calls > 2) throw new TypeError('rib gone');
    return false;
  };
  try {
    const answer = await ask(s.path, { id: 1, cmd: 'wait', args: { timeout: 10 } });
    t.is((answer.error as { code: string }).code, 'INTERNAL');
    t.is(s.server.waiting, 0);
    t.is((await ask(s.path, { id: 2, cmd: 'status' })).ok, true);
  } finally {
    await s.stop();
  }
});

test('one answer larger than the backlog bound is still delivered; a second unread one drops the client', async (t) => {
  const s = await started({ maxBacklogBytes: 1000 });
  const handlers = (s.server as unknown as { handlers: { routes: () => unknown[] } }).handlers;
  const big = Array.from({ length: 3000 }, (_, i) => ({ prefix: `10.0.${i % 256}.0/26`, family: 'ipv4', kind: 'blackhole', nextHops: [] }));
  handlers.routes = () => big;
  try {
    const answer = await ask(s.path, { id: 1, cmd: 'routes' });
    t.is((answer.data as unknown[]).length, 3000);
    const stuck = await rawClient(s.path);
    stuck.socket.pause();
    stuck.send('{"id":1,"cmd":"routes"}\n{"id":2,"cmd":"routes"}\n{"id":3,"cmd":"routes"}\n');
    await waitFor(() => s.log.entries.some((e) => e.message === 'control client does not read its answers, dropping it'),
      { timeoutMs: 5000, what: 'the drop' });
    await waitFor(() => s.server.clients === 0, { timeoutMs: 5000, what: 'the stuck client to be gone' });
    stuck.close();
  } finally {
    await s.stop();
  }
});
