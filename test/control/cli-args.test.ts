import test from 'ava';

import { DEFAULT_SOCKET, DEFAULT_WAIT_SECONDS, parseArgs } from '../../agent/cli/cli-args.js';

const run = (command: object, extra: object = {}): object => ({ kind: 'run', socket: DEFAULT_SOCKET, output: 'table', command, ...extra });

const good: [string, object, Record<string, string>?][] = [
  ['status', run({ cmd: 'status' })],
  ['status -o json', run({ cmd: 'status' }, { output: 'json' })],
  ['-o json status', run({ cmd: 'status' }, { output: 'json' })],
  ['status --output=json', run({ cmd: 'status' }, { output: 'json' })],
  ['status -o=table', run({ cmd: 'status' })],
  ['--socket /tmp/a.sock status', run({ cmd: 'status' }, { socket: '/tmp/a.sock' })],
  ['status --socket=/tmp/b.sock', run({ cmd: 'status' }, { socket: '/tmp/b.sock' })],
  ['status', run({ cmd: 'status' }, { socket: '/env.sock' }), { RACK_AGENT_SOCKET: '/env.sock' }],
  ['--socket /flag.sock status', run({ cmd: 'status' }, { socket: '/flag.sock' }), { RACK_AGENT_SOCKET: '/env.sock' }],
  ['status', run({ cmd: 'status' }), { RACK_AGENT_SOCKET: '' }],
  ['peers', run({ cmd: 'peers' })],
  ['peers 10.0.1.1', run({ cmd: 'peers', address: '10.0.1.1' })],
  ['peers [fd00::1]:1179 -o json', run({ cmd: 'peers', address: '[fd00::1]:1179' }, { output: 'json' })],
  ['routes', run({ cmd: 'routes' })],
  ['routes --family ipv6', run({ cmd: 'routes', family: 'ipv6' })],
  ['routes --family=ipv4', run({ cmd: 'routes', family: 'ipv4' })],
  ['routes --detail', run({ cmd: 'routes', detail: true })],
  ['routes --detail --family ipv6 -o json', run({ cmd: 'routes', family: 'ipv6', detail: true }, { output: 'json' })],
  ['wait', run({ cmd: 'wait', timeoutSeconds: DEFAULT_WAIT_SECONDS })],
  ['wait --timeout 0', run({ cmd: 'wait', timeoutSeconds: 0 })],
  ['wait --timeout=2.5', run({ cmd: 'wait', timeoutSeconds: 2.5 })],
  ['reload', run({ cmd: 'reload' })],
  ['check', run({ cmd: 'check' })],
  ['check --timeout 2', run({ cmd: 'check', timeoutSeconds: 2 })],
  ['check --timeout=0.5 -o json', run({ cmd: 'check', timeoutSeconds: 0.5 }, { output: 'json' })],
  ['check --timeout 60', run({ cmd: 'check', timeoutSeconds: 60 })],
  ['version', run({ cmd: 'version' })],
  ['--help', { kind: 'help' }],
  ['status -h', { kind: 'help' }],
];

for (const [line, expected, env] of good) {
  test(`agentctl ${line}${env === undefined ? '' : ` with ${JSON.stringify(env)}`}`, (t) => {
    t.deepEqual(parseArgs(line.split(' '), env ?? {}), expected);
  });
}

const bad: [string[], RegExp][] = [
  [[], /no command/],
  [['stats'], /unknown command 'stats'/],
  [['status', 'extra'], /unexpected argument 'extra'/],
  [['peers', '10.0.1.1', '10.0.1.2'], /unexpected argument '10.0.1.2'/],
  [['peers', 'tor1'], /not a peer address/],
  [['status', '-o'], /-o needs a value/],
  [['status', '-o', 'yaml'], /table' or 'json'/],
  [['status', '-o', 'json', '-o', 'table'], /given twice/],
  [['status', '--socket'], /--socket needs a value/],
  [['status', '--socket='], /--socket needs a value/],
  [['status', '--verbose'], /unknown option '--verbose'/],
  [['status', '--family', 'ipv4'], /only for 'routes'/],
  [['status', '--detail'], /only for 'routes'/],
  [['routes', '--detail=yes'], /--detail takes no value/],
  [['routes', '--detail', '--detail'], /given twice/],
  [['routes', '--timeout', '3'], /only for 'wait' and 'check'/],
  [['check', '--timeout', '0'], /--timeout must be a number of seconds above 0/],
  [['check', '--timeout', '-1'], /--timeout must be/],
  [['check', '--timeout', 'soon'], /--timeout must be/],
  [['check', '--timeout', '1e3'], /--timeout must be/],
  [['check', '--timeout', '60.5'], /at most 60/],
  [['check', '--timeout'], /--timeout needs a value/],
  [['check', '--family', 'ipv4'], /only for 'routes'/],
  [['check', '10.0.1.1'], /unexpected argument '10.0.1.1'/],
  [['routes', '--family', 'inet'], /--family must be/],
  [['wait', '--timeout', '-1'], /--timeout must be/],
  [['wait', '--timeout', 'soon'], /--timeout must be/],
  [['wait', '--timeout', '1e3'], /--timeout must be/],
  [['wait', '--timeout', '999999'], /--timeout must be/],
];

for (const [argv, message] of bad) {
  test(`agentctl ${argv.join(' ')} is a usage error`, (t) => {
    const result = parseArgs(argv, {});
    t.is(result.kind, 'usage');
    if (result.kind === 'usage') t.regex(result.message, message);
  });
}
