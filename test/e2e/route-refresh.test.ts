/**
 * Route refresh against a real ToR, end to end (issue 11 item 3), once per ToR daemon (the table
 * TORS: FRR 8.4 and BIRD 2.0.12, the same steps and assertions). The real agent and the ToR negotiate
 * enhanced route refresh (RFC 7313); the ToR is made to ask for our routes again: FRR with
 * `clear bgp ipv4 unicast NODE soft in` (it keeps no soft-reconfiguration inbound copy here, so it
 * must ask), BIRD with `birdc reload in PROTOCOL` (no `import table`, so it must ask). The wire is
 * captured in the ToR's namespace (tcpdump, port 179) and decoded by tshark, not by our codec: the
 * ToR's request, then what the agent sent after it: BoRR, the UPDATE(s) carrying our blocks, EoRR
 * (RFC 7313 section 4: the ToR marks our routes stale at BoRR and removes what was not re-sent at
 * EoRR). Meanwhile the ToR's RIB is polled for our blocks, and its own debug log (FRR `debug bgp
 * updates` and `neighbor-events`; BIRD `debug PROTOCOL all`: packets and routes) must show it
 * received every block between its BoRR and EoRR lines and never removed one. With the old agent
 * (BoRR, EoRR, then the UPDATEs) the ToR flushed our blocks at EoRR and relearnt them a moment later
 * (FRR: `flapped quicker than processing`; BIRD: `removed`, then `added`): the capture order and the
 * logs both show it. That flap is too short for the RIB poll to catch reliably; the poll guards
 * against a longer outage.
 */
import test, { type ExecutionContext } from 'ava';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent } from '../helpers/agent.js';
import { Bird, birdProtocolName } from '../helpers/bird.js';
import { Capture, decodeCapture } from '../helpers/bgp-capture.js';
import type { BgpDaemon, DaemonOptions } from '../helpers/bgp-daemon.js';
import { Frr } from '../helpers/frr.js';
import { RibPoll } from '../helpers/kernel-watch.js';
import { isRoot, Lab, rootSkipReason, waitFor } from '../helpers/netns.js';

const nsTest = isRoot ? test.serial : test.serial.skip;
if (!isRoot) test('route refresh test', (t) => t.log(`skipped: ${rootSkipReason}`));

const TOR = '10.0.4.1';
const NODE = '10.0.4.11';
const AS = 64512;
const BLOCKS = ['172.31.255.0/26', '172.31.255.64/26', '172.31.255.128/26', '172.31.255.192/26'];
const TOR_OPTIONS: DaemonOptions = { routerId: TOR, localAs: AS, neighbors: [{ address: NODE, as: AS, localAddress: TOR, connectRetry: 1, families: ['ipv4'] }] };
const PROTOCOL = birdProtocolName(TOR_OPTIONS.neighbors[0]);

const read = (path: string): string => (existsSync(path) ? readFileSync(path, 'utf8') : '');
const escape = (s: string): string => s.replace(/[./]/g, '\\$&');

/** One ToR daemon: how to start it, make it ask, and read what it did. */
interface RefreshTor<D extends BgpDaemon = BgpDaemon> {
  readonly name: string;
  readonly lab: string;
  start(lab: Lab, ns: string): Promise<D>;
  /** Both sides advertised enhanced route refresh, in the ToR's own words. */
  enhanced(tor: D): Promise<boolean>;
  /** Turns on the debug log that names every route received and removed. */
  debug(tor: D): Promise<void>;
  log(tor: D): string;
  /** Makes the ToR send a ROUTE-REFRESH for IPv4 unicast. */
  ask(tor: D): Promise<void>;
  has(tor: D, prefix: string): Promise<boolean>;
  readonly borr: RegExp;
  readonly eorr: RegExp;
  /** The log line of the ToR receiving `block`. */
  received(block: string): RegExp;
  /** Any sign of a block removed, withdrawn or relearnt. */
  readonly lost: RegExp;
}

const frr: RefreshTor<Frr> = {
  name: 'FRR 8.4',
  lab: 'rrfrr',
  start: (lab, ns) => Frr.start(lab, ns, TOR_OPTIONS),
  async enhanced(f) {
    const caps = ((await f.neighbor(NODE)).raw as { neighborCapabilities?: Record<string, unknown> }).neighborCapabilities ?? {};
    return caps.enhancedRouteRefresh === 'advertisedAndReceived';
  },
  async debug(f) {
    await f.vtysh('configure terminal', `log file ${join(f.dir, 'bgpd.log')} debugging`, 'end', 'debug bgp updates', 'debug bgp neighbor-events');
  },
  log: (f) => read(join(f.dir, 'bgpd.log')),
  async ask(f) {
    // FRR keeps no inbound copy: `soft in` must send a ROUTE-REFRESH.
    if (/soft-reconfiguration/.test(read(join(f.dir, 'bgpd.conf')))) throw new Error('FRR keeps soft-reconfiguration inbound');
    await f.vtysh(`clear bgp ipv4 unicast ${NODE} soft in`);
  },
  has: async (f, prefix) => /"paths":\s*\[\s*\{/.test(await f.vtysh(`show bgp ipv4 unicast ${prefix} json`)),
  borr: /rcvd route-refresh \(BoRR\)/i,
  eorr: /rcvd route-refresh \(EoRR\)/i,
  received: (block) => new RegExp(`rcvd ${escape(block)}`),
  // The old agent's EoRR came first: FRR removed every stale block and relearnt it from the UPDATE
  // after, logging `rcvd <block> IPv4 unicast, flapped quicker than processing`.
  lost: /flapped|withdrawn|[Dd]eleting stale|stale.*(remov|delet)/,
};

const bird: RefreshTor<Bird> = {
  name: 'BIRD 2',
  lab: 'rrbird',
  start: (lab, ns) => Bird.start(lab, ns, TOR_OPTIONS),
  async enhanced(b) {
    const [local, neighbor] = (await b.birdc('show', 'protocols', 'all', PROTOCOL)).split('Neighbor capabilities');
    return /Enhanced refresh/.test(local) && /Enhanced refresh/.test(neighbor ?? '');
  },
  // `all`: states, packets (`Got BEGIN-OF-RR`) and routes (`added`, `ignored`, `removed`).
  debug: async (b) => void (await b.birdc('debug', PROTOCOL, 'all')),
  log: (b) => read(join(b.dir, 'bird.log')),
  async ask(b) {
    const answer = await b.birdc('reload', 'in', PROTOCOL);
    if (!/reloading/.test(answer)) throw new Error(`birdc reload in: ${answer}`);
  },
  has: async (b, prefix) => new RegExp(`^${escape(prefix)}\\s`, 'm').test(await b.birdc('show', 'route', prefix)),
  borr: /Got BEGIN-OF-RR/,
  eorr: /Got END-OF-RR/,
  // BIRD 2.0.12 logs a route re-sent unchanged as `> ignored` (its stale mark cleared), a changed
  // one as `> replaced`; a route it had lost and learns again is `> added`.
  received: (block) => new RegExp(`> (ignored|replaced) ${escape(block)} `),
  lost: /> (removed|added) |withdrawn|flush/,
};

const TORS: readonly RefreshTor[] = [frr, bird];

for (const tor of TORS) {
  nsTest(`${tor.name} asks for a route refresh: BoRR, the UPDATEs with our blocks, EoRR; it never loses a block`, (t) => refresh(t, tor));
}

async function refresh(t: ExecutionContext, setup: RefreshTor): Promise<void> {
  const lab = await Lab.create(setup.lab);
  const dir = mkdtempSync(join(tmpdir(), 'rack-agent-refresh-'));
  let tor: BgpDaemon | undefined;
  let agent: Agent | undefined;
  let capture: Capture | undefined;
  let poll: RibPoll | undefined;
  try {
    const torNs = await lab.namespace('tor');
    const nodeNs = await lab.namespace('node');
    const veth = await lab.veth(torNs, `${TOR}/24`, nodeNs, `${NODE}/24`);
    tor = await setup.start(lab, torNs);
    const d = tor;
    agent = await Agent.start(lab, nodeNs, {
      node: { name: 'n0', ipv4Address: `${NODE}/24` },
      bgp: { asNumber: AS, peers: [{ peerIP: TOR, asNumber: AS }] },
      pools: [{ cidr: '172.16.0.0/12', blockSize: 26, ipipMode: 'Never' }],
      blocks: BLOCKS,
      log: { level: 'info' },
    });
    const w = await agent.ctl(['wait', '--timeout', '30']);
    t.is(w.status, 0, `agentctl wait: ${w.stdout}${w.stderr}`);
    for (const b of BLOCKS) await waitFor(() => setup.has(d, b), { timeoutMs: 20_000, what: `${setup.name} to have ${b}` });
    t.true(await setup.enhanced(d), 'both sides negotiated enhanced route refresh');

    await setup.debug(d);
    capture = new Capture(lab, torNs, veth.a, join(dir, 'bgp.pcap'));
    await capture.ready();
    poll = new RibPoll(async () => (await Promise.all(BLOCKS.map((b) => setup.has(d, b)))).every(Boolean));
    const logMark = setup.log(d).length;
    const before = (await decodeCapture(capture.file, NODE)).length;

    await setup.ask(d);
    const cap = capture;
    // Done when the agent's EoRR is on the wire and every block came after the request.
    await waitFor(async () => {
      const m = (await decodeCapture(cap.file, NODE)).slice(before);
      return m.some((x) => x.kind === 'eorr') && BLOCKS.every((b) => m.some((x) => x.nlri.includes(b)));
    }, { timeoutMs: 20_000, intervalMs: 200, what: 'the agent\'s answer to the refresh on the wire' });
    // The ToR has processed it all once its log shows the EoRR.
    await waitFor(() => setup.eorr.test(setup.log(d).slice(logMark)), { timeoutMs: 10_000, what: `${setup.name} to log the EoRR` });
    await capture.stop();
    await poll.stop();

    const asked = (await decodeCapture(capture.file, TOR)).filter((m) => m.kind !== 'keepalive');
    t.deepEqual(asked.map((m) => m.kind), ['refresh'], `${setup.name} sent one ROUTE-REFRESH`);
    const sent = (await decodeCapture(capture.file, NODE)).slice(before).filter((m) => m.kind !== 'keepalive');
    const words = sent.map((m) => (m.kind === 'update' ? `update ${m.nlri.join(' ')}`.trim() : m.kind));
    t.log(`agent -> ${setup.name} after the request:`, words);
    t.is(sent[0]?.kind, 'borr', 'BoRR first');
    t.is(sent.at(-1)?.kind, 'eorr', 'EoRR last');
    t.is(sent.filter((m) => m.kind === 'borr').length, 1);
    t.is(sent.filter((m) => m.kind === 'eorr').length, 1);
    const between = sent.slice(1, -1);
    t.true(between.length > 0 && between.every((m) => m.kind === 'update'), 'only UPDATEs between BoRR and EoRR');
    t.deepEqual(between.flatMap((m) => m.nlri).sort(), [...BLOCKS].sort(), 'every block, re-sent once, between the markers');
    t.deepEqual(between.flatMap((m) => m.withdrawn), []);

    // The ToR's view: it received our blocks after its BoRR and before its EoRR, and never lost one.
    const log = setup.log(d).slice(logMark);
    const borrAt = log.search(setup.borr);
    const eorrAt = log.search(setup.eorr);
    t.true(borrAt >= 0 && eorrAt > borrAt, `${setup.name} logged BoRR, then EoRR`);
    for (const b of BLOCKS) {
      const rcvd = log.slice(borrAt).search(setup.received(b));
      t.true(rcvd >= 0 && borrAt + rcvd < eorrAt, `${setup.name} received ${b} between BoRR and EoRR`);
    }
    t.notRegex(log, setup.lost, `${setup.name} neither withdrew, nor removed, nor relearnt a block`);
    t.true(poll.samples.length > 3, `${setup.name}'s RIB polled ${poll.samples.length} times`);
    t.is(poll.missing, 0, `no block ever left ${setup.name}'s RIB`);
  } catch (err) {
    if (agent) t.log(agent.logs().split('\n').slice(-40).join('\n'));
    if (tor) t.log(tor.logs());
    if (capture) {
      t.log(capture.logs());
      t.log(JSON.stringify(await decodeCapture(capture.file, NODE).catch((e: unknown) => String(e))));
    }
    throw err;
  } finally {
    await poll?.stop().catch(() => undefined);
    await capture?.stop().catch(() => undefined);
    await agent?.dispose().catch(() => undefined);
    await tor?.dispose().catch(() => undefined);
    await lab.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
}
