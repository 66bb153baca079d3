import test from 'ava';
import { fakeHandlers } from './fakes.js';

import { COMMAND_NAMES, COMMANDS, commandRow } from '../../agent/control/commands.js';
import { parseArgs } from '../../agent/cli/cli-args.js';
import { parseRequest } from '../../agent/control/protocol.js';

// Every command line agentctl accepts travels the wire and comes back as the same arguments.
const lines = [
  'status', 'peers', 'peers 10.0.1.1', 'peers [fd00::1]:1179', 'routes', 'routes --family ipv6', 'wait', 'wait --timeout 2.5',
  'reload', 'check', 'check --timeout 3', 'version', 'services',
];

for (const line of lines) {
  test(`agentctl ${line}: command line -> request -> the daemon's parse gives the same arguments`, (t) => {
    const inv = parseArgs(line.split(' '), {});
    if (inv.kind !== 'run') return t.fail(`not a run: ${JSON.stringify(inv)}`);
    const { cmd, ...args } = inv.command;
    const wire = commandRow(cmd).toWire(args as never);
    const parsed = parseRequest(JSON.stringify({ id: 7, cmd, args: wire }));
    if (!parsed.ok) return t.fail(`refused: ${parsed.error.message}`);
    t.deepEqual(parsed.request, { id: 7, ...inv.command });
  });
}

test('every command has a row whose usage starts with its name, and only reload, drain and undrain need root', (t) => {
  t.deepEqual(COMMAND_NAMES, ['status', 'peers', 'routes', 'wait', 'reload', 'check', 'drain', 'undrain', 'version', 'services']);
  for (const cmd of COMMAND_NAMES) {
    t.true(COMMANDS[cmd].usage[0].startsWith(cmd), cmd);
    t.is(COMMANDS[cmd].readOnly, !['reload', 'drain', 'undrain'].includes(cmd), cmd);
  }
});

test('drain and undrain: the fake daemon\'s state through the rows, and the text of each answer', (t) => {
  const h = fakeHandlers();
  const ctx = undefined as never;
  t.deepEqual(COMMANDS.drain.serve(h, {}, ctx), { drained: true, changed: true });
  t.deepEqual(COMMANDS.drain.serve(h, {}, ctx), { drained: true, changed: false });
  t.true(h.status().drained);
  t.deepEqual(COMMANDS.undrain.serve(h, {}, ctx), { drained: false, changed: true });
  t.false(h.status().drained);
  const opts = { now: new Date(), colour: false, clientVersion: '0' };
  t.is(COMMANDS.drain.render({ drained: true, changed: true }, {}, opts).text, 'Drained: peers are sent our routes with GRACEFUL_SHUTDOWN, least preferred.\n');
  t.is(COMMANDS.undrain.render({ drained: false, changed: false }, {}, opts).text, 'Not drained.\n');
});

test('exit rules: wait, reload and check fail on their negative answers; the rest always succeed', (t) => {
  t.false(COMMANDS.wait.succeeded({ converged: false, waited: 1 }));
  t.true(COMMANDS.wait.succeeded({ converged: true, waited: 1 }));
  t.false(COMMANDS.reload.succeeded({ applied: false, peersAdded: [], peersRemoved: [], peersRestarted: [], blocksAdded: [], blocksRemoved: [] }));
  t.false(COMMANDS.check.succeeded({ ok: false, checks: [], timeout: 1, at: '' }));
  t.true(COMMANDS.check.succeeded({ ok: true, checks: [], timeout: 1, at: '' }));
  t.true(COMMANDS.routes.succeeded([]));
});

test('a refused reload prints to stderr; status says "not running" on stdout instead of an error line', (t) => {
  const o = { now: new Date(0), colour: false, clientVersion: '1.2.3' };
  const refused = COMMANDS.reload.render({ applied: false, problems: ['x: y'], peersAdded: [], peersRemoved: [], peersRestarted: [], blocksAdded: [], blocksRemoved: [] }, {}, o);
  t.true(refused.stderr);
  t.deepEqual(COMMANDS.status.unreachable?.('table', o, 'NOT_RUNNING'), { stdout: 'rack-agent process is not running.\n', error: false });
  t.deepEqual(COMMANDS.status.unreachable?.('json', o, 'NOT_RUNNING'), { stdout: '{"running":false}\n', error: false });
  t.deepEqual(COMMANDS.status.unreachable?.('table', o, 'TIMEOUT'), { stdout: '', error: true });
  t.deepEqual(COMMANDS.version.unreachable?.('table', o, 'NOT_RUNNING'), { stdout: 'agentctl 1.2.3\n', error: true });
});
