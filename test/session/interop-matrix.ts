/**
 * The interop matrix of issue 3 (must show 2), run once per ToR daemon by interop-bird.test.ts and
 * interop-frr.test.ts: our sessions (the session driver, test/helpers/session-driver.ts, in the
 * `node` namespace) against a real BIRD 2 or FRR (test/helpers/bird.ts, frr.ts, in `tor`).
 *
 * Models: iBGP with the daemon as route reflector and the agent its client (AS 64512), eBGP
 * AS-per-rack (ToR 65100, node 65101) and eBGP with 4-octet ASes (4200000100 / 4200000101).
 * Cases per model, serially in one shared lab (two namespaces, one veth, IPv4 + IPv6):
 * whichever side connects first; IPv4 and IPv6 unicast both ways over one IPv4 session; MD5 right
 * key up, wrong key never up; GTSM; hold-timer expiry on a frozen daemon and recovery; daemon
 * restart and reconnection within our connect-retry time; the daemon's NOTIFICATION as our last
 * error. Each case starts its own daemon and driver and ends them, whatever happens.
 */
import test, { type ExecutionContext } from 'ava';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PeerSpec } from '../../agent/session/peer.js';
import {
  type BgpDaemon, type DaemonOptions, type NeighborOptions, waitEstablished, waitRoutes,
} from '../helpers/bgp-daemon.js';
import { type Driver, type DriverEvent, startDriver } from '../helpers/driver-client.js';
import { Frr } from '../helpers/frr.js';
import { holdsFor, isRoot, Lab, rootSkipReason, waitFor } from '../helpers/netns.js';
import { driverSpec, peerSpec } from './specs.js';

export type StartDaemon = (lab: Lab, ns: string, options: DaemonOptions) => Promise<BgpDaemon>;

interface Model {
  readonly name: string;
  readonly torAs: number;
  readonly nodeAs: number;
}

export const models: readonly Model[] = [
  { name: 'iBGP, ToR reflects for the agent', torAs: 64512, nodeAs: 64512 },
  { name: 'eBGP AS-per-rack 65100/65101', torAs: 65100, nodeAs: 65101 },
  { name: 'eBGP 4-octet 4200000100/4200000101', torAs: 4200000100, nodeAs: 4200000101 },
];

const TOR = { ipv4: '10.80.0.1', ipv6: 'fd00:80::1' };
const NODE = { ipv4: '10.80.0.2', ipv6: 'fd00:80::2' };
const TOR_ROUTES = { ipv4: ['192.168.80.0/26'], ipv6: ['fd00:80:1::/64'] };
/** A second route-reflector client (always FRR) on its own link to the ToR, for the iBGP model. */
const TOR2 = { ipv4: '10.81.0.1', ipv6: 'fd00:81::1' };
const CLIENT2 = { ipv4: '10.81.0.2', ipv6: 'fd00:81::2' };
const CLIENT2_ROUTES = { ipv4: ['192.168.82.0/26'], ipv6: ['fd00:82:1::/64'] };
const CLUSTER_ID = '10.80.255.99';
const NODE_ROUTER_ID = '10.80.255.2';
const NODE_ROUTES = { ipv4: ['192.168.81.0/26'], ipv6: ['fd00:81:1::/64'] };
/** How long a session that must not come up is watched. */
const NEVER_MS = 4000;
const UP_MS = 20_000;

/** What one case changes from the defaults on each side. */
interface CaseSetup {
  readonly tor?: Partial<NeighborOptions>;
  readonly node?: Partial<PeerSpec>;
  /** The AS the ToR is told we have (a wrong one makes it send Bad Peer AS). */
  readonly torThinksNodeAs?: number;
  readonly connectRetrySeconds?: number;
  /** More neighbours of the ToR. */
  readonly extraNeighbors?: readonly NeighborOptions[];
}

interface Running {
  readonly daemon: BgpDaemon;
  readonly driver: Driver;
  readonly key: string;
  readonly model: Model;
  readonly torOptions: (changes?: CaseSetup) => DaemonOptions;
}

function torOptions(model: Model, setup: CaseSetup): DaemonOptions {
  const nodeAs = setup.torThinksNodeAs ?? model.nodeAs;
  return {
    routerId: '10.80.255.1',
    localAs: model.torAs,
    clusterId: CLUSTER_ID,
    routes: TOR_ROUTES,
    neighbors: [{
      address: NODE.ipv4, as: nodeAs, rrClient: nodeAs === model.torAs, connectRetry: 1, ...setup.tor,
    }, ...setup.extraNeighbors ?? []],
  };
}

function nodePeer(model: Model, setup: CaseSetup): PeerSpec {
  return peerSpec({
    address: TOR.ipv4, localAs: model.nodeAs, peerAs: model.torAs, routerId: NODE_ROUTER_ID,
    localAddress: NODE.ipv4, holdTime: 9, keepaliveTime: 3, ...setup.node,
  });
}

/** Waits for a driver event that arrived after `mark` (from driver.mark()). */
function eventAfter(driver: Driver, mark: number, predicate: (e: DriverEvent) => boolean, what: string,
  timeoutMs = UP_MS): Promise<DriverEvent> {
  return driver.waitFor(predicate, what, timeoutMs, mark);
}

/**
 * Ends the driver at once (SIGKILL): each case starts a fresh ToR and driver, so there is nothing
 * to wind down, and the driver's own `exit` command waits out a 3 s backstop.
 */
async function endDriver(driver: Driver): Promise<void> {
  if (!driver.alive()) return;
  const exited = new Promise<void>((resolve) => driver.child.once('exit', () => resolve()));
  driver.child.kill('SIGKILL');
  await exited;
}

export function interopMatrix(kind: 'bird' | 'frr', start: StartDaemon): void {
  const serial = isRoot ? test.serial : test.skip;
  const note = isRoot ? '' : ` (skipped: ${rootSkipReason})`;
  let lab: Lab | undefined;
  let torNs = '';
  let nodeNs = '';
  let client2Ns = '';
  const keyDir = mkdtempSync(join(tmpdir(), 'rack-interop-keys-'));

  /** A TCP MD5 key file the driver reads (mode 600, as config/password.ts requires). */
  const keyFile = (name: string, key: string): string => {
    const path = join(keyDir, name);
    writeFileSync(path, `${key}\n`, { mode: 0o600 });
    return path;
  };

  if (isRoot) {
    test.before(async () => {
      lab = await Lab.create(`io${kind}`);
      torNs = await lab.namespace('tor');
      nodeNs = await lab.namespace('node');
      await lab.veth(torNs, TOR, nodeNs, NODE);
      client2Ns = await lab.namespace('client2');
      await lab.veth(torNs, TOR2, client2Ns, CLIENT2);
      // The reflected routes keep the agent's next hop (RFC 4456): client 2 reaches it via the ToR.
      await lab.ip(client2Ns, 'route', 'add', '10.80.0.0/24', 'via', TOR2.ipv4);
      await lab.ip(client2Ns, '-6', 'route', 'add', 'fd00:80::/64', 'via', TOR2.ipv6);
    });
  }
  test.after.always(async () => {
    rmSync(keyDir, { recursive: true, force: true });
    await lab?.destroy();
  });

  /** Starts the ToR and the driver for one case, runs `body`, and always ends both. */
  const withPair = async (t: ExecutionContext, model: Model, setup: CaseSetup,
    body: (r: Running) => Promise<void>): Promise<void> => {
    if (lab === undefined) throw new Error('lab not created');
    let daemon: BgpDaemon | undefined;
    let driver: Driver | undefined;
    try {
      daemon = await start(lab, torNs, torOptions(model, setup));
      const peer = nodePeer(model, setup);
      driver = await startDriver(lab, nodeNs, driverSpec([peer], {
        announce: NODE_ROUTES, nextHop: NODE, connectRetrySeconds: setup.connectRetrySeconds ?? 1,
      }));
      await body({ daemon, driver, key: peer.key, model, torOptions: (changes = {}) => torOptions(model, { ...setup, ...changes }) });
    } catch (err) {
      t.log(daemon?.logs() ?? '(no daemon)');
      t.log(`--- driver events ---\n${(driver?.events ?? []).slice(-40).map((e) => JSON.stringify(e)).join('\n')}`);
      t.log(`--- driver stderr ---\n${driver?.stderr().slice(-6000) ?? ''}`);
      throw err;
    } finally {
      await daemon?.dispose();
      if (driver !== undefined) await endDriver(driver);
    }
  };

  /** Established on both sides; returns the driver's established event. */
  const bothUp = async ({ daemon, driver, key }: Running, mark = 0): Promise<DriverEvent> => {
    const up = await eventAfter(driver, mark, (e) => e.ev === 'established' && e.key === key, 'established');
    await waitEstablished(daemon, NODE.ipv4, UP_MS);
    return up;
  };

  /** Neither side reaches Established for NEVER_MS. */
  const neverUp = async (t: ExecutionContext, { daemon, driver, key }: Running, what: string): Promise<void> => {
    await holdsFor(async () => {
      const [ours, theirs] = await Promise.all([driver.session(key), daemon.neighbor(NODE.ipv4)]);
      return ours?.state !== 'Established' && !theirs.established;
    }, { forMs: NEVER_MS, intervalMs: 250, what });
    t.pass(what);
  };

  /** Which side opened the established BGP connection: the one whose local port is not 179. */
  const connector = async (): Promise<'agent' | 'tor'> => {
    if (lab === undefined) throw new Error('lab not created');
    const { stdout } = await lab.exec(nodeNs, 'ss', ['-Htn', 'state', 'established', '( sport = :179 or dport = :179 )'],
      { check: true });
    const rows = stdout.trim().split('\n').filter(Boolean).map((l) => l.trim().split(/\s+/));
    if (rows.length !== 1) throw new Error(`expected one BGP connection in ${nodeNs}, ss says:\n${stdout}`);
    // Columns: Recv-Q Send-Q Local:Port Peer:Port
    return rows[0][2].endsWith(':179') ? 'tor' : 'agent';
  };

  for (const model of models) {
    const internal = model.torAs === model.nodeAs;
    const title = (what: string): string => `${kind} ToR, ${model.name}: ${what}${note}`;

    serial(title('the ToR connects to a passive agent; IPv4 and IPv6 routes both ways'), (t) =>
      withPair(t, model, { node: { passive: true } }, async (r) => {
        const up = await bothUp(r);
        t.is(await connector(), 'tor');
        t.deepEqual([...(up.families as string[])].sort(), ['ipv4', 'ipv6']);
        // Ours at the ToR: next hops as announced, AS path by the model.
        const asPath = internal ? [] : [model.nodeAs];
        const v4 = await waitRoutes(r.daemon, 'ipv4', NODE.ipv4, (rs) => rs.length === 1 && rs[0].best);
        t.like(v4[0], { prefix: NODE_ROUTES.ipv4[0], asPath, nextHops: [NODE.ipv4] });
        const v6 = await waitRoutes(r.daemon, 'ipv6', NODE.ipv4, (rs) => rs.length === 1 && rs[0].best);
        t.like(v6[0], { prefix: NODE_ROUTES.ipv6[0], asPath });
        t.is(v6[0].nextHops[0], NODE.ipv6);
        // The ToR's at the driver, by its events and by its status.
        const wanted = [...TOR_ROUTES.ipv4, ...TOR_ROUTES.ipv6];
        for (const prefix of wanted) {
          await r.driver.waitFor((e) => e.ev === 'update' && e.key === r.key && (e.announced as string[] | undefined)?.includes(prefix) === true,
            `an UPDATE with ${prefix}`, UP_MS);
        }
        // FRR also sends our own routes back (with ORIGINATOR_ID, or our AS in the path): dropping
        // them is loop detection in the RIB, not the session's business. Nothing else may arrive.
        const status = await r.driver.session(r.key);
        // The UPDATE events written before that status answer are what its `received` counts.
        const answered = r.driver.events.map((e) => e.ev).lastIndexOf('status');
        const got = new Set(r.driver.events.slice(0, answered).filter((e) => e.ev === 'update' && e.key === r.key)
          .flatMap((e) => (e.announced as string[] | undefined) ?? []));
        const allowed = new Set([...wanted, ...NODE_ROUTES.ipv4, ...NODE_ROUTES.ipv6]);
        t.deepEqual([...got].filter((p) => !allowed.has(p)), [], 'only the ToR\'s routes and our own come in');
        t.like(status, { state: 'Established', received: got.size, peerAs: model.torAs, lastError: '' });
        t.false(r.driver.events.some((e) => e.ev === 'down'), 'no session drop');
      }));

    if (internal) {
      serial(title('the ToR reflects our routes to another client (ORIGINATOR_ID, CLUSTER_LIST) and theirs to us'), (t) =>
        withPair(t, model, { extraNeighbors: [{ address: CLIENT2.ipv4, as: model.torAs, rrClient: true, connectRetry: 1 }] },
          async (r) => {
            if (lab === undefined) throw new Error('lab not created');
            const client2 = await Frr.start(lab, client2Ns, {
              routerId: '10.80.255.3', localAs: model.torAs, routes: CLIENT2_ROUTES,
              neighbors: [{ address: TOR2.ipv4, as: model.torAs, connectRetry: 1 }],
            });
            try {
              await bothUp(r);
              const v4 = await waitRoutes(client2, 'ipv4', TOR2.ipv4,
                (rs) => rs.some((x) => x.prefix === NODE_ROUTES.ipv4[0] && x.best));
              t.like(v4.find((x) => x.prefix === NODE_ROUTES.ipv4[0]), {
                originatorId: NODE_ROUTER_ID, clusterList: [CLUSTER_ID], nextHops: [NODE.ipv4], asPath: [],
              });
              const v6 = await waitRoutes(client2, 'ipv6', TOR2.ipv4,
                (rs) => rs.some((x) => x.prefix === NODE_ROUTES.ipv6[0] && x.best));
              const ours6 = v6.find((x) => x.prefix === NODE_ROUTES.ipv6[0]);
              t.like(ours6, { originatorId: NODE_ROUTER_ID, clusterList: [CLUSTER_ID] });
              t.is(ours6?.nextHops[0], NODE.ipv6);
              for (const prefix of [...CLIENT2_ROUTES.ipv4, ...CLIENT2_ROUTES.ipv6]) {
                await r.driver.waitFor((e) => e.ev === 'update' && e.key === r.key &&
                  (e.announced as string[] | undefined)?.includes(prefix) === true, `reflected ${prefix}`, UP_MS);
              }
            } catch (err) {
              t.log(client2.logs());
              throw err;
            } finally {
              await client2.dispose();
            }
          }));
    }

    serial(title('the agent connects to a passive ToR, and reconnects within its retry time after a ToR restart'), (t) =>
      withPair(t, model, { tor: { passive: true }, connectRetrySeconds: 3 }, async (r) => {
        await bothUp(r);
        t.is(await connector(), 'agent');
        const mark = r.driver.mark();
        await r.daemon.stop();
        await eventAfter(r.driver, mark, (e) => e.ev === 'down' && e.key === r.key, 'down after the ToR stopped');
        // Let the agent fail at least one connection attempt while the ToR is away.
        await eventAfter(r.driver, mark, (e) => e.ev === 'state' && e.key === r.key && e.to === 'Active', 'a refused attempt');
        const back = r.driver.mark();
        await r.daemon.restart();
        const restarted = Date.now();
        await eventAfter(r.driver, back, (e) => e.ev === 'established' && e.key === r.key, 'established again');
        const took = Date.now() - restarted;
        t.true(took <= 3000 + 1500, `reconnected ${took} ms after the restart (retry 3 s)`);
        await waitEstablished(r.daemon, NODE.ipv4, UP_MS);
      }));

    serial(title('MD5: the right key is up, a wrong key never'), (t) =>
      withPair(t, model, { tor: { password: 'rack-7-key' }, node: { passwordFile: keyFile(`md5-${kind}-${model.torAs}`, 'rack-7-key') } },
        async (r) => {
          await bothUp(r);
          await r.daemon.reconfigure(r.torOptions({ tor: { password: 'another-key' } }));
          await waitFor(async () => (await r.driver.session(r.key))?.state !== 'Established',
            { timeoutMs: UP_MS, what: 'the session to drop after the key changed' });
          await neverUp(t, r, 'no session with mismatched MD5 keys');
        }));

    serial(title('GTSM on both sides is up'), (t) =>
      withPair(t, model, { tor: { ttlSecurity: 1 }, node: { ttlSecurity: 1, ttl: 255 } }, async (r) => {
        await bothUp(r);
        t.is((await r.driver.session(r.key))?.state, 'Established');
      }));

    if (!internal) {
      serial(title('GTSM: the agent refuses a ToR that sends TTL 1'), (t) =>
        withPair(t, model, { node: { ttlSecurity: 1, ttl: 255 } }, async (r) => {
          await neverUp(t, r, 'no session while the ToR sends TTL 1 to a GTSM agent');
        }));
    }

    serial(title('hold timer expiry on a frozen ToR, recovery after SIGCONT'), (t) =>
      withPair(t, model, { tor: { holdTime: 3 }, node: { holdTime: 3, keepaliveTime: 1 } }, async (r) => {
        await bothUp(r);
        t.like(await r.driver.session(r.key), { holdTime: 3 });
        const mark = r.driver.mark();
        r.daemon.pause();
        try {
          const down = await eventAfter(r.driver, mark, (e) => e.ev === 'down' && e.key === r.key, 'hold timer expiry', 10_000);
          t.is(down.reason, 'Hold timer expired');
          t.is((await r.driver.session(r.key))?.lastError, 'Hold timer expired');
        } finally {
          r.daemon.resume();
        }
        await bothUp(r, mark + 1);
      }));

    serial(title('a NOTIFICATION from the ToR (wrong AS for us) is our last error'), (t) =>
      withPair(t, model, { torThinksNodeAs: 65199 }, async (r) => {
        const session = await waitFor(async () => {
          const s = await r.driver.session(r.key);
          return s !== undefined && /^Received: .*Bad Peer AS/.test(s.lastError) ? s : undefined;
        }, { timeoutMs: UP_MS, what: 'lastError Received: ... Bad Peer AS' });
        t.is(session.lastError, 'Received: OPEN Message Error / Bad Peer AS');
        t.not(session.state, 'Established');
        const mark = r.driver.mark();
        await r.daemon.reconfigure(r.torOptions({ torThinksNodeAs: model.nodeAs }));
        await bothUp(r, mark);
        t.is((await r.driver.session(r.key))?.lastError, '');
      }));
  }
}
