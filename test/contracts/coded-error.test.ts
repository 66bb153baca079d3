import test from 'ava';
import { BfdError } from '../../agent/bfd/errors.js';
import { CheckError } from '../../agent/check/errors.js';
import { CodedError } from '../../agent/contracts/coded-error.js';
import { ClientError } from '../../agent/cli/client.js';
import { ControlError } from '../../agent/control/errors.js';
import { MetricsError } from '../../agent/daemon/metrics.js';
import { RibError } from '../../agent/rib/errors.js';
import { ConfigError } from '../../config/errors.js';
import { NetlinkError } from '../../netlink/rtnetlink/errors.js';
import { SocketOptionError } from '../../agent/session/socket-options.js';

const cause = new Error('underneath');
const rows: Array<[string, CodedError, string, string]> = [
  ['ControlError', new ControlError('BUSY', 'busy', { cause }), 'BUSY', 'busy'],
  ['CheckError', new CheckError('NO_CAP_NET_RAW', 'no raw'), 'NO_CAP_NET_RAW', 'no raw'],
  ['ClientError', new ClientError('TIMEOUT', 'slow'), 'TIMEOUT', 'slow'],
  ['MetricsError', new MetricsError('LISTEN_FAILED', 'port'), 'LISTEN_FAILED', 'port'],
  ['BfdError', new BfdError('TTL', 'ttl 64'), 'TTL', 'ttl 64'],
  ['RibError', new RibError('SELECTOR_SYNTAX', 'bad', 3), 'SELECTOR_SYNTAX', 'bad'],
  ['ConfigError', new ConfigError('CONFIG_PARSE', '/x.yaml', [{ path: 'a', message: 'b' }]), 'CONFIG_PARSE', 'cannot parse configuration /x.yaml:\na: b'],
  ['NetlinkError', new NetlinkError('dump', 'EINTR', 'interrupted', { cause }), 'EINTR', 'dump: interrupted'],
  ['SocketOptionError', new SocketOptionError('connect', 'ETIMEDOUT', 'slow'), 'ETIMEDOUT', 'connect: slow'],
];

for (const [name, err, code, message] of rows) {
  test(`${name}: one coded-error shape (name, code, message, instanceof Error and CodedError)`, (t) => {
    t.true(err instanceof Error);
    t.true(err instanceof CodedError);
    t.is(err.name, name);
    t.is(err.code, code);
    t.is(err.message, message);
    t.true(String(err).startsWith(`${name}: `));
  });
}

test('the cause is kept when given, absent when not', (t) => {
  t.is(new ControlError('BUSY', 'x', { cause }).cause, cause);
  t.false('cause' in new ControlError('BUSY', 'x'));
  t.is(new NetlinkError('dump', 'EINTR', 'x', { cause }).cause, cause);
});
