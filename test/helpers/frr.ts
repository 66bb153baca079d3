/**
 * FRR 8.4 as a test peer: `Frr.start(lab, ns, options)` writes bgpd.conf from typed options into a
 * temp dir, checks it with `bgpd -C`, runs zebra (unless `zebra: false`) and bgpd in the namespace
 * and waits for bgpd's vty (the config itself: frr-config.ts). Queries use vtysh's JSON (`show bgp neighbors A json`, `show bgp <afi>
 * unicast [PREFIX] json`) and come back normalised (bgp-daemon.ts), so the same test runs against BIRD.
 *
 * Why zebra by default (README "What the captures taught"): without it bgpd knows no interface
 * addresses, announces IPv6 routes with the next hop `::ffff:a.b.c.d` and cannot check that an eBGP
 * neighbour is directly connected. bgpd runs with `-n` (no kernel routes) unless `installRoutes`.
 * FRR's `frr defaults traditional`, `no bgp default ipv4-unicast` and explicit `activate` are what
 * worked here (LAB-NOTES.md). The lab owns it: Lab.destroy disposes it if the test has not.
 * Not here: BIRD (bird.ts), namespaces (netns.ts).
 */
import type { ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Lab } from './netns.js';
import {
  type BgpDaemon, type DaemonOptions, type DaemonRoute, DaemonError, execTool, type Family, hasExited, keepOutput,
  makeTempDir, type NeighborState, removeTempDir, signal, stopProcess, waitReady,
} from './bgp-daemon.js';
import { frrConfig, frrReconfigureCommands, zebraConfig } from './frr-config.js';

export { frrCommands, frrConfig, frrReconfigureCommands } from './frr-config.js';

const FRR_LIB = process.env.FRR_LIB ?? '/usr/lib/frr';

export interface FrrOptions extends DaemonOptions {
  /** Run zebra next to bgpd (default true). */
  readonly zebra?: boolean;
}

// --- vtysh JSON --------------------------------------------------------------------------------

interface FrrNeighborJson {
  bgpState?: string;
  remoteAs?: number;
  bgpTimerHoldTimeMsecs?: number;
  lastResetDueTo?: string;
  lastNotificationReason?: string;
  addressFamilyInfo?: Record<string, { acceptedPrefixCounter?: number }>;
}

export function parseFrrNeighbor(address: string, json: Record<string, unknown>): NeighborState {
  const n = json[address] as FrrNeighborJson | undefined;
  if (n === undefined || typeof n !== 'object') {
    return { address, state: 'Absent', established: false, lastError: '', accepted: {}, raw: json };
  }
  const state = n.bgpState ?? 'Unknown';
  const reason = [n.lastResetDueTo, n.lastNotificationReason].filter((x) => x !== undefined && x !== '').join(': ');
  const accepted: Partial<Record<Family, number>> = {};
  for (const family of ['ipv4', 'ipv6'] as const) {
    const count = n.addressFamilyInfo?.[`${family}Unicast`]?.acceptedPrefixCounter;
    if (count !== undefined) accepted[family] = count;
  }
  return {
    address,
    state,
    established: state === 'Established',
    lastError: reason,
    ...(state === 'Established' && n.bgpTimerHoldTimeMsecs !== undefined ? { holdTime: n.bgpTimerHoldTimeMsecs / 1000 } : {}),
    ...(n.remoteAs !== undefined ? { peerAs: n.remoteAs } : {}),
    accepted,
    raw: n,
  };
}

interface FrrPathJson {
  aspath?: { segments?: Array<{ list?: number[] }> };
  origin?: string;
  metric?: number;
  med?: number;
  locPrf?: number;
  community?: { string?: string };
  largeCommunity?: { string?: string };
  originatorId?: string;
  clusterList?: { list?: string[] };
  bestpath?: { overall?: boolean };
  nexthops?: Array<{ ip?: string }>;
  peer?: { peerId?: string };
  local?: boolean;
  sourced?: boolean;
}

/** Paths of one `show bgp <afi> unicast PREFIX json` answer. */
export function parseFrrPrefix(json: { prefix?: string; paths?: FrrPathJson[] }): DaemonRoute[] {
  return (json.paths ?? []).map((p) => {
    const own = p.local === true || p.sourced === true;
    return {
      prefix: json.prefix ?? '',
      from: own ? '' : p.peer?.peerId ?? '',
      best: p.bestpath?.overall === true,
      nextHops: own ? [] : (p.nexthops ?? []).map((h) => h.ip ?? '').filter((ip) => ip !== ''),
      asPath: (p.aspath?.segments ?? []).flatMap((s) => s.list ?? []),
      ...(p.origin !== undefined ? { origin: p.origin } : {}),
      ...((p.metric ?? p.med) !== undefined ? { med: p.metric ?? p.med } : {}),
      ...(p.locPrf !== undefined ? { localPref: p.locPrf } : {}),
      communities: (p.community?.string ?? '').split(' ').filter(Boolean),
      largeCommunities: (p.largeCommunity?.string ?? '').split(' ').filter(Boolean),
      ...(p.originatorId !== undefined ? { originatorId: p.originatorId } : {}),
      clusterList: p.clusterList?.list ?? [],
    };
  });
}

/** Splits vtysh's back-to-back JSON documents (one per -c) and parses each. */
export function parseJsonDocuments(text: string): unknown[] {
  const docs: unknown[] = [];
  let depth = 0;
  let start = -1;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '{') {
      if (depth === 0) start = i;
      depth++;
    } else if (c === '}' && --depth === 0) docs.push(JSON.parse(text.slice(start, i + 1)));
  }
  return docs;
}

// --- the processes -------------------------------------------------------------------------------

export class Frr implements BgpDaemon {
  readonly kind = 'frr' as const;
  private zebra: ChildProcess | undefined;
  /** bfdd, when a neighbour has BFD (bgpd reaches it through zebra). */
  private bfdd: ChildProcess | undefined;
  private bgpd: ChildProcess | undefined;
  private output: () => string = () => '';

  private constructor(private readonly lab: Lab, readonly ns: string, readonly dir: string,
    public options: FrrOptions) {
    lab.own(this);
  }

  /** Writes the config, starts zebra (unless disabled) and bgpd in `ns`, waits for bgpd's vty. */
  static async start(lab: Lab, ns: string, options: FrrOptions): Promise<Frr> {
    const frr = new Frr(lab, ns, makeTempDir('frr'), options);
    try {
      const conf = join(frr.dir, 'bgpd.conf');
      writeFileSync(conf, frrConfig(options, frr.dir));
      // `bgpd -C` exits 0 whatever it finds; its complaints name the config line or start with `%`.
      const check = await execTool(join(FRR_LIB, 'bgpd'), ['-C', '-S', '-f', conf, '--vty_socket', frr.dir]);
      const text = `${check.stdout}${check.stderr}`;
      if (check.code !== 0 || /on config line|^% /m.test(text)) {
        throw new DaemonError('DAEMON_CONFIG', `bgpd -C: ${text}\n${readFileSync(conf, 'utf8')}`);
      }
      const bfd = options.neighbors.some((n) => n.bfd !== undefined);
      if (bfd && options.zebra === false) throw new DaemonError('DAEMON_CONFIG', 'FRR BFD needs zebra: bgpd reaches bfdd through it');
      if (options.zebra !== false) await frr.startZebra();
      if (bfd) await frr.startBfdd();
      await frr.launch();
      return frr;
    } catch (err) {
      await frr.dispose();
      throw err;
    }
  }

  /** Runs vtysh commands against bgpd; returns the output. */
  async vtysh(...commands: string[]): Promise<string> {
    const result = await execTool('vtysh', ['--vty_socket', this.dir, '-d', 'bgpd', ...commands.flatMap((c) => ['-c', c])]);
    if (result.code !== 0 || /^% /m.test(result.stdout)) {
      throw new DaemonError('DAEMON_QUERY', `vtysh ${commands.join(' | ')}: ${result.stdout}${result.stderr}`);
    }
    return result.stdout;
  }

  async neighbor(address: string): Promise<NeighborState> {
    return parseFrrNeighbor(address, JSON.parse(await this.vtysh(`show bgp neighbors ${address} json`)) as Record<string, unknown>);
  }

  async routes(family: Family): Promise<DaemonRoute[]> {
    const table = JSON.parse(await this.vtysh(`show bgp ${family} unicast json`)) as { routes?: Record<string, unknown> };
    const prefixes = Object.keys(table.routes ?? {});
    const routes: DaemonRoute[] = [];
    for (let i = 0; i < prefixes.length; i += 100) {
      const batch = prefixes.slice(i, i + 100).map((p) => `show bgp ${family} unicast ${p} json`);
      for (const doc of parseJsonDocuments(await this.vtysh(...batch))) routes.push(...parseFrrPrefix(doc as { prefix?: string }));
    }
    return routes;
  }

  /** Stops bgpd (zebra keeps running, as when bgpd alone restarts on a ToR). */
  async stop(): Promise<void> {
    if (this.bgpd !== undefined) await stopProcess(this.bgpd);
    this.bgpd = undefined;
  }

  async restart(): Promise<void> {
    await this.stop();
    writeFileSync(join(this.dir, 'bgpd.conf'), frrConfig(this.options, this.dir));
    await this.launch();
  }

  /** SIGKILL bgpd, as a crash or a power cut (zebra, if any, keeps running); resolves once it is gone. */
  async kill(): Promise<void> {
    const child = this.bgpd;
    if (child === undefined || hasExited(child)) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGKILL');
    await exited;
    this.bgpd = undefined;
  }

  /**
   * Starts bgpd again after `kill` or `stop`. FRR 8.4's bgpd has no restart flag (`-K` is zebra's):
   * with `bgp graceful-restart` every fresh bgpd sets the R bit in its OPENs for a while, and the
   * F bit comes from the config, so `recovery` rewrites bgpd.conf with or without
   * `bgp graceful-restart preserve-fw-state`, as `bird -R` and plain `bird` differ for BIRD.
   */
  async relaunch(options: { recovery?: boolean } = {}): Promise<void> {
    this.options = { ...this.options, preserveForwarding: options.recovery === true };
    writeFileSync(join(this.dir, 'bgpd.conf'), frrConfig(this.options, this.dir));
    await this.launch();
  }

  /** Freezes bgpd, and bfdd with it when it runs: a frozen ToR sends no BFD either. */
  pause(): void {
    signal(this.bgpd, 'SIGSTOP', 'bgpd');
    if (this.bfdd !== undefined) signal(this.bfdd, 'SIGSTOP', 'bfdd');
  }

  resume(): void {
    if (this.bfdd !== undefined) signal(this.bfdd, 'SIGCONT', 'bfdd');
    signal(this.bgpd, 'SIGCONT', 'bgpd');
  }

  /** `show bfd peers`: bfdd's state for the peer address ('Up', 'Down', 'Init'), or undefined. */
  async bfdState(address: string): Promise<string | undefined> {
    const result = await execTool('vtysh', ['--vty_socket', this.dir, '-d', 'bfdd', '-c', 'show bfd peers json']);
    if (result.code !== 0) throw new DaemonError('DAEMON_QUERY', `vtysh show bfd peers: ${result.stdout}${result.stderr}`);
    const peers = JSON.parse(result.stdout) as { peer?: string; status?: string }[];
    const status = peers.find((p) => p.peer === address)?.status;
    return status === undefined ? undefined : status.charAt(0).toUpperCase() + status.slice(1);
  }

  async reconfigure(options: DaemonOptions): Promise<void> {
    const next: FrrOptions = { ...options, ...(this.options.zebra !== undefined ? { zebra: this.options.zebra } : {}) };
    await this.vtysh('configure terminal', ...frrReconfigureCommands(this.options, next));
    this.options = next;
    writeFileSync(join(this.dir, 'bgpd.conf'), frrConfig(next, this.dir));
  }

  logs(): string {
    const read = (name: string): string => {
      const path = join(this.dir, name);
      return existsSync(path) ? readFileSync(path, 'utf8').slice(-8192) : `(no ${name})`;
    };
    return `--- frr ${this.ns} (${this.dir}) ---\n${read('bgpd.log')}${this.output()}`;
  }

  async dispose(): Promise<void> {
    await this.stop();
    if (this.bfdd !== undefined) await stopProcess(this.bfdd);
    this.bfdd = undefined;
    if (this.zebra !== undefined) await stopProcess(this.zebra);
    this.zebra = undefined;
    removeTempDir(this.dir);
  }

  private commonArgs(): string[] {
    return ['--vty_socket', this.dir, '-A', '127.0.0.1', '-P', '0'];
  }

  private async startZebra(): Promise<void> {
    // zebra drops privileges to the frr user: it needs to own the directory of its socket and pid.
    writeFileSync(join(this.dir, 'zebra.conf'), zebraConfig(this.options));
    const chown = await execTool('chown', ['frr:frr', this.dir, join(this.dir, 'zebra.conf')]);
    if (chown.code !== 0) throw new DaemonError('DAEMON_START', `chown frr:frr ${this.dir}: ${chown.stderr}`);
    const zserv = join(this.dir, 'zserv.api');
    const child = this.lab.spawn(this.ns, join(FRR_LIB, 'zebra'),
      ['-f', join(this.dir, 'zebra.conf'), '-i', join(this.dir, 'zebra.pid'), '-z', zserv, ...this.commonArgs()]);
    this.zebra = child;
    const output = keepOutput(child);
    await waitReady(child, `zebra in ${this.ns}`, async () => existsSync(zserv), output);
  }

  private async startBfdd(): Promise<void> {
    writeFileSync(join(this.dir, 'bfdd.conf'), '');
    await execTool('chown', ['frr:frr', join(this.dir, 'bfdd.conf')]);
    const ctl = join(this.dir, 'bfdd.sock');
    const child = this.lab.spawn(this.ns, join(FRR_LIB, 'bfdd'),
      ['-f', join(this.dir, 'bfdd.conf'), '-i', join(this.dir, 'bfdd.pid'), '-z', join(this.dir, 'zserv.api'), '--bfdctl', ctl, ...this.commonArgs()]);
    this.bfdd = child;
    const output = keepOutput(child);
    await waitReady(child, `bfdd in ${this.ns}`, async () => (await execTool('vtysh', ['--vty_socket', this.dir, '-d', 'bfdd', '-c', 'show bfd peers json'])).code === 0, output);
  }

  private async launch(): Promise<void> {
    if (this.bgpd !== undefined && !hasExited(this.bgpd)) throw new DaemonError('DAEMON_STATE', 'bgpd is already running');
    const args = ['-S', '-f', join(this.dir, 'bgpd.conf'), '-i', join(this.dir, 'bgpd.pid'), ...this.commonArgs()];
    if (this.zebra !== undefined) args.push('-z', join(this.dir, 'zserv.api'));
    else args.push('-Z');
    if (this.options.installRoutes !== true) args.push('-n');
    const child = this.lab.spawn(this.ns, join(FRR_LIB, 'bgpd'), args);
    this.bgpd = child;
    this.output = keepOutput(child);
    await waitReady(child, `bgpd in ${this.ns}`, async () => {
      const result = await execTool('vtysh', ['--vty_socket', this.dir, '-d', 'bgpd', '-c', 'show bgp summary json']);
      return result.code === 0 && result.stdout.trim().startsWith('{');
    }, this.output);
  }
}
