/**
 * services[] (SPEC.md "Anycast services"): a table of items, each with the key paths of its
 * problems (none for a good one) and, for good ones, the check the agent reads. Every broken row is
 * also run through `rack-agent --check-config` (exit 78, each key path on a line of its own).
 */

import test from 'ava';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ConfigError, loadConfig } from '../../config/index.js';
import type { ServiceConfig } from '../../config/types.js';
import { baseDoc, makeTempDir, writeConfig } from './helpers.js';

interface Row {
  readonly name: string;
  readonly services: unknown;
  /** Problem paths, in order; [] for a valid file. */
  readonly paths: readonly string[];
  readonly says?: string;
  /** For a valid file: fields of services[0] as loaded. */
  readonly loaded?: Partial<ServiceConfig>;
  readonly ipv6?: boolean;
}

const dns = (over: Record<string, unknown> = {}): Record<string, unknown> => ({ name: 'dns', prefix: '10.255.0.53/32', check: { tcp: '127.0.0.1:53' }, ...over });

const rows: Row[] = [
  {
    name: 'defaults', services: [dns()], paths: [],
    loaded: { interval: 2, timeout: 1, rise: 2, fall: 2, communities: [], check: { kind: 'tcp', address: '127.0.0.1', port: 53 } },
  },
  { name: 'http with the default status', services: [dns({ check: { http: 'http://127.0.0.1:8080/healthz' } })], paths: [], loaded: { check: { kind: 'http', url: 'http://127.0.0.1:8080/healthz', status: 200 } } },
  { name: 'http with status 204', services: [dns({ check: { http: 'http://[::1]:8080/', status: 204 } })], paths: [], loaded: { check: { kind: 'http', url: 'http://[::1]:8080/', status: 204 } } },
  { name: 'exec', services: [dns({ check: { exec: ['/bin/true', '--x'] }, communities: ['64512:53', '65535:65281'] })], paths: [], loaded: { check: { kind: 'exec', argv: ['/bin/true', '--x'] }, communities: ['64512:53', '65535:65281'] } },
  { name: 'an IPv6 /128 and a /24', ipv6: true, services: [dns({ prefix: 'fd00:53::1/128' }), dns({ name: 'lb', prefix: '10.254.1.0/24' })], paths: [] },
  { name: 'fractional interval', services: [dns({ interval: 0.5, timeout: 0.2 })], paths: [], loaded: { interval: 0.5, timeout: 0.2 } },
  { name: 'no check', services: [{ name: 'dns', prefix: '10.255.0.53/32' }], paths: ['services[0].check'], says: 'one of tcp, http or exec' },
  { name: 'two check kinds', services: [dns({ check: { tcp: '127.0.0.1:53', exec: ['/bin/true'] } })], paths: ['services[0].check'], says: 'exactly one' },
  { name: 'status without http', services: [dns({ check: { tcp: '127.0.0.1:53', status: 200 } })], paths: ['services[0].check.status'] },
  { name: 'tcp without a port', services: [dns({ check: { tcp: '127.0.0.1' } })], paths: ['services[0].check.tcp'] },
  { name: 'https', services: [dns({ check: { http: 'https://127.0.0.1/' } })], paths: ['services[0].check.http'], says: 'http://' },
  { name: 'exec as a string (a shell line)', services: [dns({ check: { exec: '/bin/true && x' } })], paths: ['services[0].check.exec'] },
  { name: 'exec with a relative program', services: [dns({ check: { exec: ['true'] } })], paths: ['services[0].check.exec'], says: 'absolute' },
  { name: 'unknown check key', services: [dns({ check: { tcp: '127.0.0.1:53', udp: '127.0.0.1:53' } })], paths: ['services[0].check.udp'] },
  { name: 'unknown item key', services: [dns({ weight: 3 })], paths: ['services[0].weight'] },
  { name: 'timeout not below interval', services: [dns({ interval: 2, timeout: 2 })], paths: ['services[0].timeout'], says: 'below interval' },
  { name: 'rise 0, fall 1.5', services: [dns({ rise: 0, fall: 1.5 })], paths: ['services[0].rise', 'services[0].fall'] },
  { name: 'interval as a string', services: [dns({ interval: '2' })], paths: ['services[0].interval'] },
  { name: 'bad community', services: [dns({ communities: ['64512:70000'] })], paths: ['services[0].communities'], says: 'RFC 1997' },
  { name: 'host bits in the prefix', services: [dns({ prefix: '10.255.0.53/24' })], paths: ['services[0].prefix'], says: 'host bits' },
  { name: 'name missing', services: [{ prefix: '10.255.0.53/32', check: { tcp: '127.0.0.1:53' } }], paths: ['services[0].name'] },
  { name: 'names and prefixes unique', services: [dns(), dns(), dns({ name: 'b', prefix: '10.255.0.53/32' })], paths: ['services[1].name', 'services[1].prefix', 'services[2].prefix'] },
  { name: 'a prefix that is an own block', services: [dns({ prefix: '192.168.0.0/26' })], paths: ['services[0].prefix'], says: 'own block' },
  { name: 'IPv6 without node.ipv6Address', services: [dns({ prefix: 'fd00:53::1/128' })], paths: ['services[0].prefix'] },
  { name: 'an item that is not a mapping', services: ['dns'], paths: ['services[0]'] },
];

const tmp = makeTempDir();
test.after.always(() => tmp.remove());
const MAIN = fileURLToPath(new URL('../../agent/main.js', import.meta.url));

function checkConfigCli(path: string): Promise<{ status: number; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [MAIN, '--check-config', '--config', path], (err, _stdout, stderr) => {
      resolve({ status: err === null ? 0 : typeof err.code === 'number' ? err.code : -1, stderr });
    });
  });
}

rows.forEach((row, i) => {
  test(`services config: ${row.name}`, async (t) => {
    const doc = baseDoc();
    doc.services = row.services;
    if (row.ipv6 === true) doc.node.ipv6Address = 'fd00:1::13/64';
    const path = writeConfig(tmp.dir, `${i}.yaml`, doc);
    if (row.paths.length === 0) {
      const config = loadConfig(path);
      const loaded = config.services[0] as unknown as Record<string, unknown>;
      for (const [k, v] of Object.entries(row.loaded ?? {})) t.deepEqual(loaded[k], v, k);
      t.is(config.services.length, (row.services as unknown[]).length);
      return;
    }
    const err = t.throws(() => loadConfig(path), { instanceOf: ConfigError });
    if (!err) return;
    t.deepEqual(err.problems.map((p) => p.path), row.paths, err.message);
    if (row.says !== undefined) t.true(err.message.includes(row.says), `says ${row.says}: ${err.message}`);
    const cli = await checkConfigCli(path);
    t.is(cli.status, 78, cli.stderr);
    for (const p of row.paths) t.true(cli.stderr.split('\n').some((l) => l.startsWith(`${p}: `)), `--check-config names ${p}:\n${cli.stderr}`);
  });
});
