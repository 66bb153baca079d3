/**
 * A table of broken config files: each row asserts the ConfigError code and the exact list of key
 * paths with problems (so one mistake is reported once, and several are all reported), and that
 * the error message names every one of them. Each row also runs `rack-agent --check-config` as a
 * child process: exit status 78 and every key path on stderr, one problem per line.
 */

import test from 'ava';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ConfigError, loadConfig } from '../../config/index.js';
import { baseDoc, makeTempDir, writeConfig, writeKeyFile } from './helpers.js';

type Doc = ReturnType<typeof baseDoc>;

interface Row {
  name: string;
  /** Changes the base document; or `text` gives the file verbatim. */
  edit?: (doc: Doc, dir: string) => void;
  text?: string;
  file?: string;
  code: ConfigError['code'];
  /** The key paths of the problems, in order; '' for the file as a whole. */
  paths: string[];
  /** Text the message must contain besides the paths. */
  says?: string;
}

const peer0 = (d: Doc) => d.bgp.peers[0];

const rule = (o: Record<string, unknown>) => ({ match: {}, ...o });
const rows: Row[] = [
  // policy (SPEC.md "Routing policy"): each mistake named by its key
  { name: 'policy: unknown key in a rule', edit: (d) => (d.policy = { import: [rule({ when: {} })] }), code: 'CONFIG_INVALID', paths: ['policy.import[0].when'] },
  { name: 'policy: bad action', edit: (d) => (d.policy = { export: [rule({ action: 'drop' })] }), code: 'CONFIG_INVALID', paths: ['policy.export[0].action'], says: 'accept, reject' },
  { name: 'policy: ge without a prefix', edit: (d) => (d.policy = { import: [rule({ match: { ge: 24 } })] }), code: 'CONFIG_INVALID', paths: ['policy.import[0].match.ge'], says: 'needs match.prefix' },
  { name: 'policy: le shorter than the prefix', edit: (d) => (d.policy = { import: [rule({ match: { prefix: '10.0.0.0/16', le: 8 } })] }), code: 'CONFIG_INVALID', paths: ['policy.import[0].match.le'] },
  { name: 'policy: exact with ge', edit: (d) => (d.policy = { import: [rule({ match: { prefix: '10.0.0.0/16', exact: true, ge: 20 } })] }), code: 'CONFIG_INVALID', paths: ['policy.import[0].match.exact'] },
  { name: 'policy: a pool that is not in pools', edit: (d) => (d.policy = { export: [rule({ match: { pool: '10.0.0.0/8' } })] }), code: 'CONFIG_INVALID', paths: ['policy.export[0].match.pool'], says: 'not the cidr of any entry of pools' },
  { name: 'policy: bad communities', edit: (d) => (d.policy = { export: [rule({ match: { community: '70000:1' }, set: { communities: ['64512:10', 'x'], largeCommunities: ['1:2'] } })] }), code: 'CONFIG_INVALID',
    paths: ['policy.export[0].match.community', 'policy.export[0].set.communities[1]', 'policy.export[0].set.largeCommunities[0]'] },
  { name: 'policy: set with reject', edit: (d) => (d.policy = { import: [rule({ action: 'reject', set: { localPref: 10 } })] }), code: 'CONFIG_INVALID', paths: ['policy.import[0].set'], says: 'set applies on accept' },
  { name: 'policy: bad peer type and prepend', edit: (d) => (d.policy = { export: [rule({ match: { peer: { type: 'igp' } }, set: { prepend: 40 } })] }), code: 'CONFIG_INVALID', paths: ['policy.export[0].set.prepend', 'policy.export[0].match.peer.type'] },
  { name: 'bgp.drained not a boolean', edit: (d) => (d.bgp.drained = 'yes'), code: 'CONFIG_INVALID', paths: ['bgp.drained'] },
  { name: 'unknown top-level key', edit: (d) => (d.routing = { x: 1 }), code: 'CONFIG_INVALID', paths: ['routing'], says: 'unknown key' },
  { name: 'unknown key in a section', edit: (d) => (d.kernel = { protocol: 201 }), code: 'CONFIG_INVALID', paths: ['kernel.protocol'] },
  { name: 'unknown key inside a peer', edit: (d) => (peer0(d).peerIp = '10.0.1.1'), code: 'CONFIG_INVALID', paths: ['bgp.peers[0].peerIp'] },
  { name: 'unknown key inside a pool', edit: (d) => (d.pools[0].natOutgoing = true), code: 'CONFIG_INVALID', paths: ['pools[0].natOutgoing'] },
  { name: 'bad peer IP', edit: (d) => (peer0(d).peerIP = '10.0.1.300'), code: 'CONFIG_INVALID', paths: ['bgp.peers[0].peerIP'] },
  { name: 'bad port in peerIP', edit: (d) => (peer0(d).peerIP = '10.0.1.1:70000'), code: 'CONFIG_INVALID', paths: ['bgp.peers[0].peerIP'] },
  { name: 'endOfRibQuietTime 0', edit: (d) => (d.bgp.endOfRibQuietTime = 0), code: 'CONFIG_INVALID', paths: ['bgp.endOfRibQuietTime'], says: '1..600' },
  { name: 'endOfRibQuietTime not a whole number', edit: (d) => (d.bgp.endOfRibQuietTime = 2.5), code: 'CONFIG_INVALID', paths: ['bgp.endOfRibQuietTime'] },
  { name: 'bgp.bfd.minRxMs 5', edit: (d) => (d.bgp.bfd = { minRxMs: 5 }), code: 'CONFIG_INVALID', paths: ['bgp.bfd.minRxMs'], says: '10..60000' },
  { name: 'bgp.bfd.multiplier 0 (RFC 5880: Detect Mult 0 is invalid)', edit: (d) => (d.bgp.bfd = { multiplier: 0 }), code: 'CONFIG_INVALID', paths: ['bgp.bfd.multiplier'], says: '1..255' },
  { name: 'bgp.bfd.enabled as a string', edit: (d) => (d.bgp.bfd = { enabled: 'yes' }), code: 'CONFIG_INVALID', paths: ['bgp.bfd.enabled'] },
  { name: 'unknown key in bgp.bfd', edit: (d) => (d.bgp.bfd = { echo: true }), code: 'CONFIG_INVALID', paths: ['bgp.bfd.echo'] },
  { name: 'peer bfd.minTxMs 70000', edit: (d) => (peer0(d).bfd = { minTxMs: 70000 }), code: 'CONFIG_INVALID', paths: ['bgp.peers[0].bfd.minTxMs'] },
  { name: 'interface peer with peerIP too', edit: (d) => (peer0(d).interface = 'eth0'), code: 'CONFIG_INVALID', paths: ['bgp.peers[0].interface'], says: 'peerIP or peerSelector' },
  { name: 'interface peer without asNumber', edit: (d) => (d.bgp.peers = [{ interface: 'eth0' }]), code: 'CONFIG_INVALID', paths: ['bgp.peers[0].asNumber'], says: 'required with interface' },
  { name: 'interface name too long', edit: (d) => (d.bgp.peers = [{ interface: 'a-very-long-name0', asNumber: 'external' }]), code: 'CONFIG_INVALID', paths: ['bgp.peers[0].interface'], says: '1..15' },
  { name: 'asNumber external on an address peer', edit: (d) => (peer0(d).asNumber = 'external'), code: 'CONFIG_INVALID', paths: ['bgp.peers[0].asNumber'], says: 'only for interface peers' },
  { name: 'asNumber as another word', edit: (d) => (d.bgp.peers = [{ interface: 'eth0', asNumber: 'any' }]), code: 'CONFIG_INVALID', paths: ['bgp.peers[0].asNumber'], says: 'external or internal' },
  { name: 'the same interface twice', edit: (d) => (d.bgp.peers = [{ interface: 'eth0', asNumber: 'external' }, { interface: 'eth0', asNumber: 65001 }]), code: 'CONFIG_INVALID', paths: ['bgp.peers[1].interface'], says: 'already the peer bgp.peers[0]' },
  { name: 'MD5 on an interface peer', edit: (d, dir) => (d.bgp.peers = [{ interface: 'eth0', asNumber: 'external', passwordFile: writeKeyFile(dir, 'k-if', 'secret', 0o600) }]), code: 'CONFIG_INVALID', paths: ['bgp.peers[0].passwordFile'], says: 'not supported with interface' },
  { name: 'bgp.bfd.multihop yes (auto, on or off)', edit: (d) => (d.bgp.bfd = { multihop: 'yes' }), code: 'CONFIG_INVALID', paths: ['bgp.bfd.multihop'], says: 'auto, on, off' },
  { name: 'bgp.bfd.multihop true (a string is asked for)', edit: (d) => (d.bgp.bfd = { multihop: true }), code: 'CONFIG_INVALID', paths: ['bgp.bfd.multihop'] },
  { name: 'peer bfd.minTtl 256', edit: (d) => (peer0(d).bfd = { minTtl: 256 }), code: 'CONFIG_INVALID', paths: ['bgp.peers[0].bfd.minTtl'], says: '0..255' },
  { name: 'peer bfd not a mapping', edit: (d) => (peer0(d).bfd = true), code: 'CONFIG_INVALID', paths: ['bgp.peers[0].bfd'] },
  { name: 'unknown key in a peer bfd', edit: (d) => (peer0(d).bfd = { authentication: 'md5' }), code: 'CONFIG_INVALID', paths: ['bgp.peers[0].bfd.authentication'] },
  { name: 'bad routerId', edit: (d) => (d.node.routerId = '10.0.1'), code: 'CONFIG_INVALID', paths: ['node.routerId'] },
  { name: 'node.ipv4Address without subnet', edit: (d) => (d.node.ipv4Address = '10.0.1.13'), code: 'CONFIG_INVALID', paths: ['node.ipv4Address'] },
  { name: 'node.ipv4Address missing', edit: (d) => delete d.node.ipv4Address, code: 'CONFIG_INVALID', paths: ['node.ipv4Address'], says: 'required' },
  { name: 'bad CIDR', edit: (d) => (d.pools[0].cidr = '192.168.0.0/33'), code: 'CONFIG_INVALID', paths: ['pools[0].cidr'] },
  { name: 'host bits set in a block', edit: (d) => (d.blocks = ['192.168.0.1/26']), code: 'CONFIG_INVALID', paths: ['blocks[0]'], says: 'host bits' },
  { name: 'host bits set in a pool', edit: (d) => (d.pools[0].cidr = '192.168.1.0/16'), code: 'CONFIG_INVALID', paths: ['pools[0].cidr'], says: '192.168.0.0/16' },
  { name: 'block outside every pool', edit: (d) => (d.blocks = ['10.9.0.0/26']), code: 'CONFIG_INVALID', paths: ['blocks[0]'], says: 'no pool' },
  {
    name: 'block in a disabled pool',
    edit: (d) => (d.pools[0].disabled = true),
    code: 'CONFIG_INVALID',
    paths: ['blocks[0]'],
    says: 'disabled',
  },
  { name: 'block of the wrong size', edit: (d) => (d.blocks = ['192.168.0.0/24']), code: 'CONFIG_INVALID', paths: ['blocks[0]'], says: 'blockSize 26' },
  { name: 'duplicate block', edit: (d) => d.blocks.push('192.168.0.0/26'), code: 'CONFIG_INVALID', paths: ['blocks[1]'] },
  { name: 'overlapping pools', edit: (d) => d.pools.push({ cidr: '192.168.128.0/17' }), code: 'CONFIG_INVALID', paths: ['pools[1].cidr'], says: 'overlaps' },
  {
    name: 'duplicate peer (with and without port)',
    edit: (d) => d.bgp.peers.push({ peerIP: '10.0.1.1:179', asNumber: 64512 }),
    code: 'CONFIG_INVALID',
    paths: ['bgp.peers[1].peerIP'],
    says: 'bgp.peers[0]',
  },
  {
    name: 'duplicate IPv6 peer spelled differently',
    edit: (d) => {
      d.node.ipv6Address = 'fd00:1::13/64';
      d.bgp.peers = [{ peerIP: 'fd00:1::1', asNumber: 1 }, { peerIP: '[FD00:1:0::1]:179', asNumber: 1 }];
    },
    code: 'CONFIG_INVALID',
    paths: ['bgp.peers[1].peerIP'],
  },
  { name: "peer at the node's own address", edit: (d) => (peer0(d).peerIP = '10.0.1.13'), code: 'CONFIG_INVALID', paths: ['bgp.peers[0].peerIP'] },
  { name: 'AS 0', edit: (d) => (d.bgp.asNumber = 0), code: 'CONFIG_INVALID', paths: ['bgp.asNumber'], says: 'RFC 7607' },
  { name: 'AS 23456 (AS_TRANS)', edit: (d) => (peer0(d).asNumber = 23456), code: 'CONFIG_INVALID', paths: ['bgp.peers[0].asNumber'], says: 'AS_TRANS' },
  { name: 'AS 4294967296', edit: (d) => (d.node.asNumber = 4294967296), code: 'CONFIG_INVALID', paths: ['node.asNumber'] },
  { name: 'AS as a string', edit: (d) => (d.bgp.asNumber = '64512'), code: 'CONFIG_INVALID', paths: ['bgp.asNumber'] },
  { name: 'hold time 2', edit: (d) => (d.bgp.holdTime = 2), code: 'CONFIG_INVALID', paths: ['bgp.holdTime'] },
  { name: 'peer hold time 70000', edit: (d) => (peer0(d).holdTime = 70000), code: 'CONFIG_INVALID', paths: ['bgp.peers[0].holdTime'] },
  { name: 'hold time "90" is not coerced', edit: (d) => (d.bgp.holdTime = '90'), code: 'CONFIG_INVALID', paths: ['bgp.holdTime'] },
  { name: 'keepalive not below hold time', edit: (d) => (peer0(d).keepaliveTime = 90), code: 'CONFIG_INVALID', paths: ['bgp.peers[0].keepaliveTime'] },
  { name: 'send hold time not above the hold time (RFC 9687)', edit: (d) => (d.bgp.sendHoldTime = 90), code: 'CONFIG_INVALID', paths: ['bgp.sendHoldTime'] },
  { name: 'peer send hold time not above its hold time', edit: (d) => { peer0(d).holdTime = 30; peer0(d).sendHoldTime = 20; }, code: 'CONFIG_INVALID', paths: ['bgp.peers[0].sendHoldTime'] },
  { name: 'bgp.sendHoldTime not above a peer\'s own hold time', edit: (d) => { d.bgp.sendHoldTime = 100; peer0(d).holdTime = 120; }, code: 'CONFIG_INVALID', paths: ['bgp.sendHoldTime'] },
  { name: 'send hold time negative', edit: (d) => (d.bgp.sendHoldTime = -1), code: 'CONFIG_INVALID', paths: ['bgp.sendHoldTime'] },
  { name: 'routeProtocol 12 (BIRD)', edit: (d) => (d.kernel = { routeProtocol: 12 }), code: 'CONFIG_INVALID', paths: ['kernel.routeProtocol'], says: 'reserved' },
  { name: 'routeProtocol 186 (FRR bgp)', edit: (d) => (d.kernel = { routeProtocol: 186 }), code: 'CONFIG_INVALID', paths: ['kernel.routeProtocol'] },
  { name: 'routeProtocol 80 (Felix)', edit: (d) => (d.kernel = { routeProtocol: 80 }), code: 'CONFIG_INVALID', paths: ['kernel.routeProtocol'] },
  { name: 'routeProtocol 256', edit: (d) => (d.kernel = { routeProtocol: 256 }), code: 'CONFIG_INVALID', paths: ['kernel.routeProtocol'] },
  {
    name: 'password file missing',
    edit: (d, dir) => (peer0(d).passwordFile = `${dir}/no-such.key`),
    code: 'CONFIG_INVALID',
    paths: ['bgp.peers[0].passwordFile'],
    says: 'does not exist',
  },
  {
    name: 'password file world-readable',
    edit: (d, dir) => (peer0(d).passwordFile = writeKeyFile(dir, 'open.key', 'k', 0o644)),
    code: 'CONFIG_INVALID',
    paths: ['bgp.peers[0].passwordFile'],
    says: 'mode 0644',
  },
  { name: 'IPv6 peer without node.ipv6Address', edit: (d) => (peer0(d).peerIP = 'fd00:1::1'), code: 'CONFIG_INVALID', paths: ['bgp.peers[0].peerIP'], says: 'ipv6Address' },
  { name: 'IPv6 pool without node.ipv6Address', edit: (d) => d.pools.push({ cidr: 'fd00:10::/48' }), code: 'CONFIG_INVALID', paths: ['pools[1].cidr'] },
  { name: 'IPv6 pool with IPIP', edit: (d) => {
      d.node.ipv6Address = 'fd00:1::13/64';
      d.pools.push({ cidr: 'fd00:10::/48', ipipMode: 'Always' });
    }, code: 'CONFIG_INVALID', paths: ['pools[1].ipipMode'] },
  { name: 'bad ipipMode', edit: (d) => (d.pools[0].ipipMode = 'always'), code: 'CONFIG_INVALID', paths: ['pools[0].ipipMode'], says: 'CrossSubnet' },
  { name: 'bad log level', edit: (d) => (d.log = { level: 'trace' }), code: 'CONFIG_INVALID', paths: ['log.level'] },
  { name: 'bad boolean', edit: (d) => (peer0(d).passive = 'yes'), code: 'CONFIG_INVALID', paths: ['bgp.peers[0].passive'] },
  { name: 'check.timeout zero', edit: (d) => (d.check = { timeout: 0 }), code: 'CONFIG_INVALID', paths: ['check.timeout'], says: 'above 0' },
  { name: 'check.timeout above 60', edit: (d) => (d.check = { timeout: 61 }), code: 'CONFIG_INVALID', paths: ['check.timeout'], says: 'at most 60' },
  { name: 'check.timeout a string', edit: (d) => (d.check = { timeout: '5' }), code: 'CONFIG_INVALID', paths: ['check.timeout'] },
  { name: 'check.interval negative', edit: (d) => (d.check = { interval: -1 }), code: 'CONFIG_INVALID', paths: ['check.interval'] },
  { name: 'check.interval fractional', edit: (d) => (d.check = { interval: 1.5 }), code: 'CONFIG_INVALID', paths: ['check.interval'] },
  { name: 'check with an unknown key', edit: (d) => (d.check = { intervall: 5 }), code: 'CONFIG_INVALID', paths: ['check.intervall'] },
  { name: 'metrics.listen without a port', edit: (d) => (d.metrics = { listen: '127.0.0.1' }), code: 'CONFIG_INVALID', paths: ['metrics.listen'] },
  { name: 'peer without peerIP or peerSelector', edit: (d) => (d.bgp.peers = [{ asNumber: 1 }]), code: 'CONFIG_INVALID', paths: ['bgp.peers[0].peerIP'] },
  { name: 'peer without asNumber', edit: (d) => delete peer0(d).asNumber, code: 'CONFIG_INVALID', paths: ['bgp.peers[0].asNumber'] },
  { name: 'a peer that is not a mapping', edit: (d) => d.bgp.peers.push('10.0.1.2'), code: 'CONFIG_INVALID', paths: ['bgp.peers[1]'] },
  { name: 'a section that is not a mapping', edit: (d) => (d.kernel = 5), code: 'CONFIG_INVALID', paths: ['kernel'] },
  { name: 'mesh without nodes', edit: (d) => (d.bgp.nodeToNodeMesh = true), code: 'CONFIG_INVALID', paths: ['bgp.nodes'] },
  { name: 'label value not a string', edit: (d) => (d.node.labels = { rack: 1 }), code: 'CONFIG_INVALID', paths: ['node.labels'] },
  { name: 'top level is a list', text: '- node\n', code: 'CONFIG_INVALID', paths: [''] },
  { name: 'malformed YAML', text: "node:\n  name: 'unterminated\n", code: 'CONFIG_PARSE', paths: [''], says: "line 3, column 1: Missing closing 'quote" },
  { name: 'duplicate YAML key', text: 'node:\n  ipv4Address: 10.0.1.13/24\nnode: {}\n', code: 'CONFIG_PARSE', paths: [''], says: 'line 3' },
  { name: 'malformed JSON', file: 'config.json', text: '{"node": {"ipv4Address": "10.0.1.13/24",}}', code: 'CONFIG_PARSE', paths: [''], says: 'line 1' },
  { name: 'unsupported extension', file: 'config.toml', text: 'node = 1\n', code: 'CONFIG_PARSE', paths: [''], says: '.toml' },
  { name: 'no such file', file: 'absent.yaml', code: 'CONFIG_UNREADABLE', paths: [''], says: 'no such file' },
  {
    name: 'several problems at once, all listed',
    edit: (d, dir) => {
      d.extra = 1;
      d.bgp.holdTime = 2;
      d.bgp.peers.push({ peerIP: '10.0.1.1', asNumber: 0, unknown: 1 }, { peerIP: 'fd00::2', asNumber: 1, passwordFile: `${dir}/none.key` });
      d.pools[0].ipipMode = 'Sometimes';
      d.blocks.push('10.0.0.0/26', '192.168.0.65/26');
      d.kernel = { routeProtocol: 12, table: 255 };
    },
    code: 'CONFIG_INVALID',
    paths: [
      'bgp.holdTime',
      'kernel.routeProtocol',
      'kernel.table',
      'extra',
      'bgp.peers[1].asNumber',
      'bgp.peers[1].unknown',
      'pools[0].ipipMode',
      'blocks[2]',
      'bgp.peers[1].peerIP',
      'bgp.peers[2].peerIP',
      'bgp.peers[2].passwordFile',
      'blocks[1]',
    ],
  },
];

const tmp = makeTempDir();
test.after.always(() => tmp.remove());

const MAIN = fileURLToPath(new URL('../../agent/main.js', import.meta.url));

function checkConfigCli(path: string): Promise<{ status: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [MAIN, '--check-config', '--config', path], (err, stdout, stderr) => {
      const status = err === null ? 0 : typeof err.code === 'number' ? err.code : -1;
      resolve({ status, stdout, stderr });
    });
  });
}

rows.forEach((row, i) => {
  test(`broken config: ${row.name}`, async (t) => {
    const name = row.file ?? 'config.yaml';
    const dir = `${tmp.dir}`;
    let path = `${dir}/${i}-${name}`;
    if (row.text !== undefined) path = writeConfig(dir, `${i}-${name}`, row.text);
    else if (row.edit) {
      const doc = baseDoc();
      row.edit(doc, dir);
      path = writeConfig(dir, `${i}-${name}`, doc);
    }
    const err = t.throws(() => loadConfig(path), { instanceOf: ConfigError });
    if (!err) return;
    t.is(err.code, row.code);
    t.is(err.path, path);
    t.deepEqual(
      err.problems.map((p) => p.path),
      row.paths,
      err.message,
    );
    for (const p of row.paths) t.true(err.message.includes(p === '' ? path : `${p}: `), `message names ${p}`);
    if (row.says !== undefined) t.true(err.message.includes(row.says), `message says ${row.says}: ${err.message}`);
    const cli = await checkConfigCli(path);
    t.is(cli.status, 78, cli.stderr);
    t.is(cli.stdout, '');
    const lines = cli.stderr.trimEnd().split('\n');
    for (const p of row.paths) {
      if (p !== '') t.true(lines.some((l) => l.startsWith(`${p}: `)), `--check-config names ${p} on a line of its own:\n${cli.stderr}`);
    }
  });
});
