/**
 * The BGP listener's default bind (agent/session/listener.ts): with no address configured it binds
 * without a host (`::` dual-stack, or 0.0.0.0 where IPv6 is off) and routes an IPv4 peer's
 * connection under its plain address; and its start compiles no IPv6 regular expression (Node's
 * check of a '::' host does: 1.4 MB of V8 compiler memory, measured as the process's peak of
 * malloced V8 memory in a fresh child, with an explicit '::' as the row that shows the cost).
 */

import test from 'ava';
import { execFile } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { Listener } from '../../agent/session/listener.js';
import type { Logger } from '../../agent/contracts/log.js';

const quiet: Logger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

test('listener without addresses: an IPv4 peer connecting to 127.0.0.1 is accepted and routed by its plain address', async (t) => {
  let routed: ((address: string) => void) | undefined;
  const got = new Promise<string>((resolve) => { routed = resolve; });
  const accepted: Socket[] = [];
  const listener = new Listener({ port: 0, log: quiet, route: (socket, address) => { accepted.push(socket); routed?.(address); } });
  await listener.listen();
  const client = connect({ host: '127.0.0.1', port: listener.port });
  client.on('error', () => undefined);
  try {
    listener.setPeers([{ address: '127.0.0.1', md5Key: '', ttlSecurity: 0 }]);
    t.is(await got, '127.0.0.1');
  } finally {
    client.destroy();
    for (const s of accepted) s.destroy();
    await listener.close();
  }
});

const LISTENER = fileURLToPath(new URL('../../agent/session/listener.js', import.meta.url));
const PROBE = `
import { getHeapStatistics } from 'node:v8';
const { Listener } = await import(process.argv[1]);
const addresses = JSON.parse(process.argv[2]);
const log = { debug() {}, info() {}, warn() {}, error() {} };
const before = getHeapStatistics().peak_malloced_memory;
const l = new Listener({ port: 0, log, route: () => undefined, ...(addresses === null ? {} : { addresses }) });
await l.listen();
const grew = getHeapStatistics().peak_malloced_memory - before;
await l.close();
process.stdout.write(String(grew));
`;

const rows: { addresses: string[] | null; atMostKiB?: number; atLeastKiB?: number }[] = [
  { addresses: null, atMostKiB: 512 },
  { addresses: ['::'], atLeastKiB: 1024 },
];

for (const r of rows) {
  test(`listener start with addresses ${JSON.stringify(r.addresses)}: V8 compiler memory ${r.atMostKiB !== undefined ? `<= ${r.atMostKiB}` : `>= ${r.atLeastKiB}`} KiB`, async (t) => {
    const out = await new Promise<string>((resolve, reject) => {
      execFile(process.execPath, ['--input-type=module', '-e', PROBE, LISTENER, JSON.stringify(r.addresses)], (err, stdout, stderr) => (err === null ? resolve(stdout) : reject(new Error(`${err.message}\n${stderr}`))));
    });
    const kib = Number(out) / 1024;
    if (r.atMostKiB !== undefined) t.true(kib <= r.atMostKiB, `grew ${kib.toFixed(0)} KiB`);
    if (r.atLeastKiB !== undefined) t.true(kib >= r.atLeastKiB, `grew ${kib.toFixed(0)} KiB`);
  });
}
