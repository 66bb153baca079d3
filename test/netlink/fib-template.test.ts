/**
 * The Fib's IPv4 request templates (templates.ts): for every kind of route and prefix length, the
 * template with the address put in is byte for byte what encodeRoute gives for the whole route.
 */
import test from 'ava';
import { routeTemplate, type Template, Templates, writeTemplate } from '../../netlink/fib/templates.js';
import { routeToMessage } from '../../netlink/fib/kernel-route.js';
import type { FibNextHop, FibRoute } from '../../netlink/fib/types.js';
import { encodeRoute } from '../../netlink/rtnetlink/route.js';

const hop = (gateway: string, extra: Partial<FibNextHop> = {}): FibNextHop =>
  ({ gateway, dev: '', ifindex: 0, onlink: false, peer: gateway, ...extra });

const routes: Record<string, FibRoute> = {
  'one next hop': { family: 4, prefix: '', kind: 'unicast', nextHops: [hop('10.1.0.1')] },
  'IPIP, on-link over tunl0': { family: 4, prefix: '', kind: 'unicast', nextHops: [hop('10.2.0.1', { dev: 'tunl0', ifindex: 9, onlink: true })] },
  'ECMP': { family: 4, prefix: '', kind: 'unicast', nextHops: [hop('10.1.0.1'), hop('10.1.0.3', { dev: 'eth1', ifindex: 3 })] },
  'IPv6 next hop (RTA_VIA)': { family: 4, prefix: '', kind: 'unicast', nextHops: [hop('fe80::1', { dev: 'eth0', ifindex: 2 })] },
  'blackhole': { family: 4, prefix: '', kind: 'blackhole', nextHops: [] },
};
/** The template's bytes for one address, in a buffer of their own. */
function fromTemplate(tpl: Template, addr: number): Buffer {
  const buf = Buffer.alloc(tpl.bytes.length);
  const len = writeTemplate(tpl, addr, buf, 0);
  return buf.subarray(0, len);
}

const prefixes = ['0.0.0.0/0', '10.0.0.0/8', '64.0.1.192/26', '192.168.7.0/24', '203.0.113.9/32', '255.255.255.255/32'];

for (const [name, route] of Object.entries(routes)) {
  test(`template: ${name}, in table 254 and in table 1000`, (t) => {
    for (const own of [{ table: 254, protocol: 80 }, { table: 1000, protocol: 80 }]) {
      for (const prefix of prefixes) {
        const [dst, len] = prefix.split('/');
        const addr = dst.split('.').reduce((a, octet) => a * 256 + Number(octet), 0);
        const want = encodeRoute(routeToMessage({ ...route, prefix }, own));
        t.deepEqual(fromTemplate(routeTemplate(route, Number(len), own), addr), want, `${prefix} table ${own.table}`);
      }
    }
  });
}

test('Templates.write: the same bytes in place at an offset; a buffer too small is left alone and told the length', (t) => {
  const own = { table: 254, protocol: 80 };
  const want = { route: routes.ECMP, signature: 'ecmp' };
  const templates = new Templates();
  const addr = 0x40000140; // 64.0.1.64
  const bytes = fromTemplate(routeTemplate(routes.ECMP, 26, own), addr);
  const buf = Buffer.alloc(bytes.length + 10, 0xee);
  t.is(templates.write(want, 26, addr, own, buf, 7), bytes.length);
  t.deepEqual(buf.subarray(7, 7 + bytes.length), bytes);
  t.deepEqual([...buf.subarray(0, 7)], Array(7).fill(0xee));
  const small = Buffer.alloc(bytes.length + 6, 0xee);
  t.is(templates.write(want, 26, addr, own, small, 7), bytes.length);
  t.true(small.every((b) => b === 0xee));
});
