/** One errno table for NetlinkError and SocketOptionError (agent/contracts/errno.ts). */
import test from 'ava';
import { errnoName, errnoNumber } from '../../agent/contracts/errno.js';
import { NetlinkError } from '../../netlink/rtnetlink/errors.js';
import { SocketOptionError } from '../../agent/session/socket-options.js';

const ROWS: [string, number][] = [['EEXIST', 17], ['ENOENT', 2], ['EPERM', 1], ['ENOBUFS', 105]];

for (const [name, n] of ROWS) {
  test(`errno ${name} <-> ${n}, and both typed errors agree`, (t) => {
    t.is(errnoName(n), name);
    t.is(errnoNumber(name), n);
    t.is(new NetlinkError('newroute', name, 'x').errno, n);
    t.is(new SocketOptionError('setTtl', name, 'x').errno, n);
  });
}

test('an unknown number is E<n>; an unknown name is 0', (t) => {
  t.is(errnoName(9999), 'E9999');
  t.is(errnoNumber('ENOTANERRNO'), 0);
});
