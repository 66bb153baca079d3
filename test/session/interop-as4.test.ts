/**
 * RFC 6793 section 4.2 against a real 2-octet speaker: BIRD 2 with `enable as4 off` as the ToR
 * (AS 65100), our session driver with the 4-octet AS 4200000101. BIRD then sends no 4-octet AS
 * capability, so the session is 2-octet both ways; it still reads ours for our AS (a configured
 * AS_TRANS gets Bad Peer AS: 4200000101). On the wire (tcpdump, bytes read here without our codec): our OPEN says
 * AS_TRANS, our UPDATE carries AS_PATH 23456 and AS4_PATH 4200000101 (section 4.2.2), and BIRD
 * rebuilds the real path; BIRD's own UPDATE with a 4-octet AS in its path arrives as AS_TRANS plus
 * AS4_PATH and our session hands the merged path over (section 4.2.3). One case, a few seconds.
 */
import test from 'ava';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Capture } from '../helpers/bgp-capture.js';
import { execTool, makeTempDir, removeTempDir, waitRoutes } from '../helpers/bgp-daemon.js';
import { Bird } from '../helpers/bird.js';
import { isRoot, rootSkipReason } from '../helpers/netns.js';
import { bothUp, eventAfter, InteropLab, type Model, NODE, NODE_ROUTES, TOR } from './interop-setup.js';

const model: Model = { name: 'eBGP, 4-octet agent 4200000101, 2-octet BIRD 65100', torAs: 65100, nodeAs: 4200000101 };
const FAR = 4200000200;
const TOR_ROUTE = '192.168.80.0/26';

/**
 * Every TCP stream `src` sent data on, each reassembled in sequence order (tshark reads the pcap).
 * Both sides connect, so a collision (RFC 4271 6.8) can leave our OPEN on a connection that is
 * closed before any UPDATE: the messages are read from all of them. Segments are written at their
 * offsets, so a retransmission that overlaps or coalesces earlier segments changes nothing.
 */
async function streamsFrom(file: string, src: string): Promise<Uint8Array[]> {
  const r = await execTool('tshark', ['-r', file, '-n', '-o', 'tcp.relative_sequence_numbers:TRUE', '-Y', `ip.src == ${src} && tcp.len > 0`,
    '-T', 'fields', '-e', 'tcp.stream', '-e', 'tcp.seq', '-e', 'tcp.payload']);
  if (r.code !== 0) throw new Error(`tshark: ${r.stderr}`);
  const byStream = new Map<string, { seq: number; bytes: Buffer }[]>();
  for (const [s, seq, hex] of r.stdout.trim().split('\n').filter(Boolean).map((l) => l.split('\t'))) {
    const list = byStream.get(s) ?? [];
    list.push({ seq: Number(seq), bytes: Buffer.from(hex.replace(/:/g, ''), 'hex') });
    byStream.set(s, list);
  }
  return [...byStream.values()].map((segments) => {
    const out = Buffer.alloc(Math.max(...segments.map((g) => g.seq - 1 + g.bytes.length)));
    const have = new Uint8Array(out.length);
    for (const g of segments) { g.bytes.copy(out, g.seq - 1); have.fill(1, g.seq - 1, g.seq - 1 + g.bytes.length); }
    const hole = have.indexOf(0);
    return hole === -1 ? out : out.subarray(0, hole); // what follows a segment the capture missed is not read
  });
}

interface WireUpdate {
  readonly attrs: Map<number, { flags: number; value: string }>;
  readonly nlri: string;
}

/** The BGP messages of the streams cut by their headers; UPDATEs with their attributes as hex (RFC 4271 4.3). */
function messages(streams: Uint8Array[]): { type: number; body: Uint8Array }[] {
  return streams.flatMap(messagesOf);
}

function messagesOf(bytes: Uint8Array): { type: number; body: Uint8Array }[] {
  const out: { type: number; body: Uint8Array }[] = [];
  for (let p = 0; p + 19 <= bytes.length;) {
    const len = (bytes[p + 16] << 8) | bytes[p + 17];
    if (len < 19 || p + len > bytes.length) break;
    out.push({ type: bytes[p + 18], body: bytes.subarray(p + 19, p + len) });
    p += len;
  }
  return out;
}

function updates(streams: Uint8Array[]): WireUpdate[] {
  return messages(streams).filter((m) => m.type === 2).map(({ body }) => {
    const wr = (body[0] << 8) | body[1];
    const ta = (body[2 + wr] << 8) | body[3 + wr];
    const attrs = new Map<number, { flags: number; value: string }>();
    for (let p = 4 + wr; p < 4 + wr + ta;) {
      const ext = body[p] & 0x10;
      const len = ext ? (body[p + 2] << 8) | body[p + 3] : body[p + 2];
      const v = p + (ext ? 4 : 3);
      attrs.set(body[p + 1], { flags: body[p] & 0xf0, value: Buffer.from(body.subarray(v, v + len)).toString('hex') });
      p = v + len;
    }
    return { attrs, nlri: Buffer.from(body.subarray(4 + wr + ta)).toString('hex') };
  });
}

const serial = isRoot ? test.serial : test.skip;
let env: InteropLab | undefined;
if (isRoot) test.before(async () => { env = await InteropLab.create('ioas4'); });
test.after.always(async () => { await env?.destroy(); });

serial(`BIRD 2 with enable as4 off: AS_TRANS in AS_PATH and the real path in AS4_PATH, both ways${isRoot ? '' : ` (skipped: ${rootSkipReason})`}`, async (t) => {
  const lab = env!;
  const dir = makeTempDir('as4cap');
  const capture = new Capture(lab.lab, lab.torNs, 'any', join(dir, 'bgp.pcap'));
  try {
    await capture.ready();
    await lab.pair(t, (l, ns, o) => Bird.start(l, ns, o), model, {
      tor: { as4: false, families: ['ipv4'] },
      node: { families: ['ipv4'] },
      torRoutes: { ipv4: [{ prefix: TOR_ROUTE, asPath: [FAR] }] },
    }, async (r) => {
      await bothUp(r);
      const status = await r.driver.session(r.key);
      t.false(status?.capabilities.includes('4-octet AS'), 'BIRD did not advertise the capability');

      // Toward BIRD: BIRD rebuilds our real AS from AS4_PATH (it merges as a NEW speaker would).
      const ours = await waitRoutes(r.daemon, 'ipv4', NODE.ipv4, (rs) => rs.length === 1 && rs[0].best);
      t.like(ours[0], { prefix: NODE_ROUTES.ipv4[0], asPath: [model.nodeAs] });

      // From BIRD: the merged path, its AS first, then the 4-octet AS of the route.
      // The driver is this case's own: its events from the first on (BIRD may send before we look).
      const got = await eventAfter(r.driver, 0, (e) => e.ev === 'update' && (e.announced as string[] | undefined)?.includes(TOR_ROUTE) === true, 'BIRD\'s route');
      t.deepEqual(got.asPath, [model.torAs, FAR]);
    });
    await capture.stop();

    // Our bytes on the wire: OPEN My AS = AS_TRANS; the UPDATE carries AS_PATH 23456, AS4_PATH 4200000101.
    const sent = await streamsFrom(capture.file, NODE.ipv4);
    const open = messages(sent).find((m) => m.type === 1);
    t.deepEqual([open?.body[1], open?.body[2]], [0x5b, 0xa0], 'OPEN My Autonomous System is AS_TRANS');
    const mine = updates(sent).find((u) => u.nlri === '1ac0a85100');
    t.truthy(mine, `our UPDATE for 192.168.81.0/26 (UPDATE NLRIs seen: ${updates(sent).map((u) => u.nlri).join(', ')})`);
    t.deepEqual(mine?.attrs.get(2), { flags: 0x40, value: '02015ba0' }, 'AS_PATH: SEQUENCE [AS_TRANS]');
    t.deepEqual(mine?.attrs.get(17), { flags: 0xc0, value: '0201fa56ea65' }, 'AS4_PATH: SEQUENCE [4200000101], optional transitive');

    // BIRD's bytes: a 2-octet AS_PATH with AS_TRANS, the real path in AS4_PATH (what we merged).
    const theirs = updates(await streamsFrom(capture.file, TOR.ipv4)).find((u) => u.nlri === '1ac0a85000');
    t.is(theirs?.attrs.get(2)?.value, '0202fe4c5ba0', 'AS_PATH: SEQUENCE [65100, AS_TRANS]');
    t.is(theirs?.attrs.get(17)?.value, '02020000fe4cfa56eac8', 'AS4_PATH: SEQUENCE [65100, 4200000200]');
  } finally {
    await capture.stop();
    if (existsSync(dir)) removeTempDir(dir);
  }
});
