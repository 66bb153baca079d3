/**
 * A stand-in agent for the abuse tests: a ControlServer over fakeHandlers in its own process, so
 * its memory can be read from /proc without the test's own allocations. Usage:
 * `node fake-daemon.js SOCKET_PATH [GROUP]`; prints `ready` once listening, and its log (JSON
 * lines with the journald priority prefix) on stdout; SIGTERM closes it.
 * Answers a `status` request; `converged` follows the file SOCKET_PATH.converged existing.
 */
import { existsSync } from 'node:fs';

import { ControlServer } from '../../agent/control/server.js';
import { createLog } from '../../agent/daemon/log.js';
import { fakeHandlers } from './fakes.js';

const [path, group = ''] = process.argv.slice(2);
const state = { converged: false, failStatus: false, refuseReload: false, reloads: 0 };
const handlers = fakeHandlers(state);
const server = new ControlServer({ ...handlers, converged: () => existsSync(`${path}.converged`) }, { path, group, log: createLog({ level: 'info', format: 'json' }).log, waitPollMs: 50 });

server.start().then(() => {
  process.stdout.write('ready\n');
}, (err: unknown) => {
  process.stdout.write(`failed ${(err as { code?: string }).code ?? String(err)}\n`);
  process.exitCode = 1;
});

process.on('SIGTERM', () => {
  void server.close().then(() => process.exit(0));
});
