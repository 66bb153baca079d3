/**
 * Who may use the control socket (issue 6, must show 5): as root, a throw-away group named
 * after this run is created; agentctl runs as `nobody` through setpriv, once outside that group
 * (refused by the kernel, exit 3) and once inside it (reads; reload refused by SO_PEERCRED).
 * nobody runs a copy of the built agentctl in a folder it can reach (agentctlForEveryone): the
 * checkout may be one only root can enter.
 */
import { stat } from 'node:fs/promises';

import test from 'ava';

import { ControlServer } from '../../agent/control/server.js';
import { isRoot, rootSkipReason, runPrefix } from '../helpers/netns.js';
import { fakeHandlers, memoryLog } from './fakes.js';
import { agentctl, agentctlForEveryone, runProgram, socketDir } from './helpers.js';

const group = `${runPrefix}ctl`;

const asNobody = (program: string, groups: string, args: string[]) =>
  runProgram('setpriv', ['--reuid=nobody', '--regid=nogroup', ...(groups === '' ? ['--clear-groups'] : [`--groups=${groups}`]), process.execPath, program, ...args]);

if (!isRoot) {
  test('socket permissions', (t) => {
    t.log(rootSkipReason);
    t.pass();
  });
} else {
  test('outside the group: refused; inside: reads, but reload stays root\'s', async (t) => {
    const added = await runProgram('groupadd', [group]);
    t.is(added.code, 0, added.stderr);
    const dir = await socketDir();
    const copy = await agentctlForEveryone();
    const state = { converged: true, failStatus: false, refuseReload: false, reloads: 0 };
    const server = new ControlServer(fakeHandlers(state), { path: dir.path, group, log: memoryLog() });
    try {
      const gid = Number((await runProgram('getent', ['group', group])).stdout.split(':')[2]);
      await server.start();
      const st = await stat(dir.path);
      t.is(st.gid, gid);
      t.is(st.uid, 0);
      t.is(st.mode & 0o777, 0o660);

      const outsider = await asNobody(copy.agentctl, '', ['--socket', dir.path, 'status']);
      t.is(outsider.code, 3, outsider.stdout + outsider.stderr);
      t.is(outsider.stdout, '');
      t.regex(outsider.stderr, /permission denied/);

      const member = await asNobody(copy.agentctl, String(gid), ['--socket', dir.path, 'status']);
      t.is(member.code, 0, member.stderr);
      t.regex(member.stdout, /^rack-agent process is running\./);

      const memberReload = await asNobody(copy.agentctl, String(gid), ['--socket', dir.path, 'reload']);
      t.is(memberReload.code, 1);
      t.is(memberReload.stderr, 'agentctl: NOT_PERMITTED: reload needs root\n');
      t.is(state.reloads, 0);

      const rootReload = await agentctl(['--socket', dir.path, 'reload']);
      t.is(rootReload.code, 0, rootReload.stderr);
      t.is(state.reloads, 1);
    } finally {
      await server.close();
      await dir.cleanup();
      await copy.cleanup();
      await runProgram('groupdel', [group]);
    }
  });
}
