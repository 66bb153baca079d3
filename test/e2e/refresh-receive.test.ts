/**
 * Enhanced route refresh, receiving side (RFC 7313 section 4; issue 19 item 9), end to end: the real
 * agent in a namespace, a ToR that re-advertises its routes between BoRR and EoRR, the kernel
 * watched (`ip monitor`) for every deletion.
 * - A raw BGP speaker (test/helpers/raw-tor.ts) re-advertises all its routes but one, which it
 *   neither re-sends nor withdraws: the agent drops it at EoRR (it leaves the kernel), and it is
 *   the only deletion. The old agent ignored BoRR/EoRR and kept the route for good.
 * - BIRD 2.0.12 as the ToR: `birdc reload out` re-sends everything between BoRR and EoRR (nothing
 *   leaves the kernel, nothing is re-installed); an export filter that drops one route, applied by
 *   `birdc configure`, is a refresh too (BoRR, a withdrawal, the rest, EoRR): only that route goes.
 * FRR 8.4 is not here: it sends BoRR/EoRR only in answer to a ROUTE-REFRESH request, which the agent
 * never sends, and `clear bgp ipv4 unicast NODE soft out` re-sends the UPDATEs without markers
 * (seen with tshark here), so FRR never exercises this code.
 */
import test, { type ExecutionContext } from 'ava';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatPrefix } from '../../agent/bgp/prefix.js';
import { Agent, type ConfigDoc } from '../helpers/agent.js';
import { Capture, decodeCapture } from '../helpers/bgp-capture.js';
import { Bird } from '../helpers/bird.js';
import { kernelRoutes, RouteWatcher } from '../helpers/kernel-watch.js';
import { isRoot, Lab, rootSkipReason, waitFor } from '../helpers/netns.js';
import { RawTor } from '../helpers/raw-tor.js';

const nsTest = isRoot ? test.serial : test.serial.skip;
if (!isRoot) test('enhanced route refresh, receiving side', (t) => t.log(`skipped: ${rootSkipReason}`));

const TOR = '10.0.5.1';
const NODE = '10.0.5.11';
const AS = 64512;
const OWN = '172.31.255.192/26';

const agentDoc: ConfigDoc = {
  node: { name: 'n0', ipv4Address: `${NODE}/24` },
  bgp: { asNumber: AS, endOfRibQuietTime: 2, peers: [{ peerIP: TOR, asNumber: AS }] },
  pools: [{ cidr: '172.16.0.0/12', blockSize: 26, ipipMode: 'Never' }],
  blocks: [OWN],
  log: { level: 'info' },
};

/** `count` /26 from 172.16.0.0 on. */
const routes = (count: number): string[] => Array.from({ length: count }, (_, i) => formatPrefix({ afi: 1, len: 26, addr: (((172 << 24) | (16 << 16)) >>> 0) + i * 64 }));

interface World {
  readonly lab: Lab;
  readonly torNs: string;
  readonly nodeNs: string;
  readonly veth: string;
}

async function withLab(t: ExecutionContext, name: string, body: (w: World, cleanup: (fn: () => unknown) => void) => Promise<void>): Promise<void> {
  const lab = await Lab.create(name);
  const cleanups: (() => unknown)[] = [];
  try {
    const torNs = await lab.namespace('tor');
    const nodeNs = await lab.namespace('node');
    const veth = await lab.veth(torNs, `${TOR}/24`, nodeNs, `${NODE}/24`);
    await body({ lab, torNs, nodeNs, veth: veth.a }, (fn) => cleanups.push(fn));
  } finally {
    for (const fn of cleanups.reverse()) await Promise.resolve(fn()).catch((err: unknown) => t.log(`cleanup: ${String(err)}`));
    await lab.destroy();
  }
}

/** The agent's log lines about enhanced route refresh. */
const refreshLines = (agent: Agent): string[] => agent.logs().split('\n').filter((l) => /BoRR|EoRR|enhanced route refresh/.test(l));

nsTest('a raw ToR re-advertises all but one route between BoRR and EoRR: that one leaves the kernel at EoRR, nothing else does', async (t) => {
  await withLab(t, 'errraw', async (w, cleanup) => {
    const learned = routes(600);
    const gone = learned[321];
    const tor = await RawTor.start(w.lab, w.torNs, { asn: AS, routerId: TOR, routes: learned });
    const agent = await Agent.start(w.lab, w.nodeNs, agentDoc);
    cleanup(() => agent.dispose());
    await tor.serve();
    try {
      const r = await agent.ctl(['wait', '--timeout', '30']);
      t.is(r.status, 0, `agentctl wait: ${r.stdout}${r.stderr}`);
      const before = await kernelRoutes(w.lab, w.nodeNs);
      t.is(before.size, learned.length + 1, 'every learned route and our blackhole');
      const watcher = new RouteWatcher(w.lab, w.nodeNs);
      cleanup(() => watcher.stop());
      await watcher.sync();

      tor.refresh(learned.filter((p) => p !== gone));
      await waitFor(async () => !(await kernelRoutes(w.lab, w.nodeNs)).has(gone), { timeoutMs: 15_000, what: `${gone}, not re-advertised, to leave the kernel at EoRR` });
      await watcher.sync();
      t.deepEqual(watcher.deletions(), [gone], 'the only deletion is the route not re-advertised');
      const after = await kernelRoutes(w.lab, w.nodeNs);
      t.deepEqual([...before].filter(([p, line]) => p !== gone && after.get(p) !== line), [], 'every other route unchanged');
      const lines = refreshLines(agent);
      t.true(lines.some((l) => /received BoRR for ipv4/.test(l)) && lines.some((l) => /received EoRR for ipv4/.test(l)), lines.join('\n'));
      t.true(lines.some((l) => /ended \(at EoRR\).*purged=1/.test(l)), lines.join('\n'));
      t.true(tor.established(), 'the session stayed up');
    } catch (err) {
      t.log(agent.logs().split('\n').slice(-40).join('\n'));
      t.log(tor.logs());
      throw err;
    }
  });
});

nsTest('BIRD 2 refreshes its export (reload out; an export filter change): BoRR/EoRR received, only the filtered route leaves the kernel', async (t) => {
  await withLab(t, 'errbird', async (w, cleanup) => {
    const learned = routes(3);
    const dropped = learned[2];
    const dir = mkdtempSync(join(tmpdir(), 'rack-agent-err-'));
    cleanup(() => rmSync(dir, { recursive: true, force: true }));
    const bird = await Bird.start(w.lab, w.torNs, { routerId: TOR, localAs: AS, neighbors: [{ address: NODE, as: AS, localAddress: TOR, connectRetry: 1, families: ['ipv4'] }], routes: { ipv4: learned } });
    cleanup(() => bird.dispose());
    const agent = await Agent.start(w.lab, w.nodeNs, agentDoc);
    cleanup(() => agent.dispose());
    try {
      const r = await agent.ctl(['wait', '--timeout', '30']);
      t.is(r.status, 0, `agentctl wait: ${r.stdout}${r.stderr}`);
      t.deepEqual([...(await kernelRoutes(w.lab, w.nodeNs)).keys()].sort(), [...learned, OWN].sort());
      const watcher = new RouteWatcher(w.lab, w.nodeNs);
      cleanup(() => watcher.stop());
      await watcher.sync();
      const capture = new Capture(w.lab, w.torNs, w.veth, join(dir, 'bgp.pcap'));
      cleanup(() => capture.stop());
      await capture.ready();
      const ended = (): number => refreshLines(agent).filter((l) => /enhanced route refresh ended \(at EoRR\)/.test(l)).length;

      // 1. reload out: the whole export again, between the markers; nothing leaves the kernel.
      t.regex(await bird.birdc('reload', 'out', 'all'), /reloading/);
      await waitFor(() => ended() === 1, { timeoutMs: 15_000, what: 'the agent to see the EoRR of `reload out`' });
      // 2. an export filter without one route: BIRD refreshes the export (RFC 7313: BoRR ... EoRR).
      const conf = join(bird.dir, 'bird.conf');
      const text = readFileSync(conf, 'utf8');
      const filter = 'export where source ~ [ RTS_STATIC, RTS_BGP ];';
      t.true(text.includes(filter), 'the generated config has the export filter this test edits');
      writeFileSync(conf, text.replace(filter, `export where source ~ [ RTS_STATIC, RTS_BGP ] && net != ${dropped};`));
      t.regex(await bird.birdc('configure', `"${conf}"`), /Reconfigured/);
      await waitFor(() => ended() === 2, { timeoutMs: 15_000, what: 'the agent to see the EoRR of the reconfiguration' });
      await waitFor(async () => !(await kernelRoutes(w.lab, w.nodeNs)).has(dropped), { timeoutMs: 10_000, what: `${dropped} to leave the kernel` });
      await watcher.sync();
      await capture.stop();

      const wire = (await decodeCapture(capture.file, TOR)).filter((m) => m.kind !== 'keepalive');
      const words = wire.map((m) => (m.kind === 'update' ? `update +${m.nlri.length} -${m.withdrawn.join(',')}` : m.kind));
      t.log('BIRD -> agent:', words);
      t.deepEqual(wire.map((m) => m.kind).filter((k) => k !== 'update'), ['borr', 'eorr', 'borr', 'eorr'], 'two refreshes, each between BoRR and EoRR');
      t.deepEqual(watcher.deletions(), [dropped], 'nothing re-advertised left the kernel; the filtered route did');
      t.deepEqual([...(await kernelRoutes(w.lab, w.nodeNs)).keys()].sort(), [...learned.slice(0, 2), OWN].sort());
      t.true(refreshLines(agent).some((l) => /received BoRR for ipv4/.test(l)));
    } catch (err) {
      t.log(agent.logs().split('\n').slice(-40).join('\n'));
      t.log(bird.logs());
      throw err;
    }
  });
});
