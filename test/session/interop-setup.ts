/**
 * The interop matrix's lab and plumbing (interop-matrix.ts has the cases): addresses and AS models,
 * the ToR's options and our PeerSpec for a case, and `InteropLab`, which owns the shared lab
 * (namespaces tor, node and client2; veths tor-node and tor-client2, IPv4 + IPv6), the MD5 key
 * files, and `pair()`: one ToR daemon plus one session driver per case, always ended afterwards.
 */
import type { ExecutionContext } from 'ava';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BgpDaemon, type DaemonOptions, type NeighborOptions, waitEstablished } from '../helpers/bgp-daemon.js';
import { type Driver, type DriverEvent, startDriver } from '../helpers/driver-client.js';
import { holdsFor, Lab } from '../helpers/netns.js';
import { driverSpec, peerSpec } from './specs.js';
import type { PeerSpec } from '../../agent/contracts/engines.js';

export type StartDaemon = (lab: Lab, ns: string, options: DaemonOptions) => Promise<BgpDaemon>;

export interface Model {
  readonly name: string;
  readonly torAs: number;
  readonly nodeAs: number;
}

export const models: readonly Model[] = [
  { name: 'iBGP, ToR reflects for the agent', torAs: 64512, nodeAs: 64512 },
  { name: 'eBGP AS-per-rack 65100/65101', torAs: 65100, nodeAs: 65101 },
  { name: 'eBGP 4-octet 4200000100/4200000101', torAs: 4200000100, nodeAs: 4200000101 },
];

export const TOR = { ipv4: '10.80.0.1', ipv6: 'fd00:80::1' };
export const NODE = { ipv4: '10.80.0.2', ipv6: 'fd00:80::2' };
export const TOR_ROUTES = { ipv4: ['192.168.80.0/26'], ipv6: ['fd00:80:1::/64'] };
/** A second route-reflector client (always FRR) on its own link to the ToR, for the iBGP model. */
export const TOR2 = { ipv4: '10.81.0.1', ipv6: 'fd00:81::1' };
export const CLIENT2 = { ipv4: '10.81.0.2', ipv6: 'fd00:81::2' };
export const CLIENT2_ROUTES = { ipv4: ['192.168.82.0/26'], ipv6: ['fd00:82:1::/64'] };
export const CLUSTER_ID = '10.80.255.99';
export const NODE_ROUTER_ID = '10.80.255.2';
export const NODE_ROUTES = { ipv4: ['192.168.81.0/26'], ipv6: ['fd00:81:1::/64'] };
/** How long a session that must not come up is watched. */
export const NEVER_MS = 4000;
export const UP_MS = 20_000;

/** What one case changes from the defaults on each side. */
export interface CaseSetup {
  readonly tor?: Partial<NeighborOptions>;
  readonly node?: Partial<PeerSpec>;
  /** The AS the ToR is told we have (a wrong one makes it send Bad Peer AS). */
  readonly torThinksNodeAs?: number;
  readonly connectRetrySeconds?: number;
  /** More neighbours of the ToR. */
  readonly extraNeighbors?: readonly NeighborOptions[];
  /** The ToR's own routes instead of TOR_ROUTES. */
  readonly torRoutes?: DaemonOptions['routes'];
}

export interface Running {
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
    routes: setup.torRoutes ?? TOR_ROUTES,
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
export function eventAfter(driver: Driver, mark: number, predicate: (e: DriverEvent) => boolean, what: string,
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

export class InteropLab {
  private readonly keyDir = mkdtempSync(join(tmpdir(), 'rack-interop-keys-'));

  private constructor(readonly lab: Lab, readonly torNs: string, readonly nodeNs: string, readonly client2Ns: string) {}

  static async create(name: string): Promise<InteropLab> {
    const lab = await Lab.create(name);
    try {
      const torNs = await lab.namespace('tor');
      const nodeNs = await lab.namespace('node');
      await lab.veth(torNs, TOR, nodeNs, NODE);
      const client2Ns = await lab.namespace('client2');
      await lab.veth(torNs, TOR2, client2Ns, CLIENT2);
      // The reflected routes keep the agent's next hop (RFC 4456): client 2 reaches it via the ToR.
      await lab.ip(client2Ns, 'route', 'add', '10.80.0.0/24', 'via', TOR2.ipv4);
      await lab.ip(client2Ns, '-6', 'route', 'add', 'fd00:80::/64', 'via', TOR2.ipv6);
      return new InteropLab(lab, torNs, nodeNs, client2Ns);
    } catch (err) {
      await lab.destroy();
      throw err;
    }
  }

  async destroy(): Promise<void> {
    rmSync(this.keyDir, { recursive: true, force: true });
    await this.lab.destroy();
  }

  /** A TCP MD5 key file the driver reads (mode 600, as config/password.ts requires). */
  keyFile(name: string, key: string): string {
    const path = join(this.keyDir, name);
    writeFileSync(path, `${key}\n`, { mode: 0o600 });
    return path;
  }

  /** Starts the ToR and the driver for one case, runs `body`, and always ends both. */
  async pair(t: ExecutionContext, start: StartDaemon, model: Model, setup: CaseSetup,
    body: (r: Running) => Promise<void>): Promise<void> {
    let daemon: BgpDaemon | undefined;
    let driver: Driver | undefined;
    try {
      daemon = await start(this.lab, this.torNs, torOptions(model, setup));
      const peer = nodePeer(model, setup);
      driver = await startDriver(this.lab, this.nodeNs, driverSpec([peer], {
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
  }

  /** Which side opened the established BGP connection: the one whose local port is not 179. */
  async connector(): Promise<'agent' | 'tor'> {
    const { stdout } = await this.lab.exec(this.nodeNs, 'ss',
      ['-Htn', 'state', 'established', '( sport = :179 or dport = :179 )'], { check: true });
    const rows = stdout.trim().split('\n').filter(Boolean).map((l) => l.trim().split(/\s+/));
    if (rows.length !== 1) throw new Error(`expected one BGP connection in ${this.nodeNs}, ss says:\n${stdout}`);
    // Columns: Recv-Q Send-Q Local:Port Peer:Port
    return rows[0][2].endsWith(':179') ? 'tor' : 'agent';
  }
}

/** Established on both sides; returns the driver's established event. */
export async function bothUp({ daemon, driver, key }: Running, mark = 0): Promise<DriverEvent> {
  const up = await eventAfter(driver, mark, (e) => e.ev === 'established' && e.key === key, 'established');
  await waitEstablished(daemon, NODE.ipv4, UP_MS);
  return up;
}

/** Neither side reaches Established for NEVER_MS. */
export async function neverUp(t: ExecutionContext, { daemon, driver, key }: Running, what: string): Promise<void> {
  await holdsFor(async () => {
    const [ours, theirs] = await Promise.all([driver.session(key), daemon.neighbor(NODE.ipv4)]);
    return ours?.state !== 'Established' && !theirs.established;
  }, { forMs: NEVER_MS, intervalMs: 250, what });
  t.pass(what);
}
