/**
 * Network-namespace lab for integration tests: namespaces joined by veth pairs, processes run
 * inside them with `ip netns exec`, and teardown that disposes what the lab owns (agents, BIRD,
 * FRR: they register themselves), kills every process and deletes every namespace of the lab,
 * even after a failure, and as a last resort at process exit or on SIGTERM/SIGINT (ava's timeout
 * ends a worker with SIGTERM; last-resort.ts). Tests get a lab from lab-fixture.ts (`useLab`).
 *
 * Every namespace name starts with this run's prefix `ra<pid>x<random>-` and then the lab's name,
 * so parallel runs and parallel tests never collide and `ip netns list | grep ^ra` shows leftovers.
 * Links are created directly inside the namespaces (`ip -n NS link add ... peer ... netns NS2`):
 * the host's interfaces, routes and sysctls are never touched.
 *
 * Needs root (CAP_NET_ADMIN, CAP_SYS_ADMIN for `ip netns`); tests check `isRoot` and skip otherwise.
 */
import { type ChildProcess, execFile, execFileSync, spawn, type SpawnOptions } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { atLastResort } from './last-resort.js';
import { waitFor } from './wait.js';

export { captureOutput, holdsFor, type Output, waitFor, type WaitOptions } from './wait.js';

export const isRoot = process.getuid?.() === 0;
export const rootSkipReason = 'needs root for network namespaces (CI runs as root)';

/** This process's prefix for everything it creates. */
export const runPrefix = `ra${process.pid}x${randomBytes(2).toString('hex')}-`;

export interface ExecResult {
  stdout: string;
  stderr: string;
  /** Exit status, or null when killed by a signal. */
  code: number | null;
}

/** Addresses for one end of a veth: an IPv4 CIDR string, or either/both families. */
export type EndAddresses = string | { ipv4?: string; ipv6?: string };

export interface Veth {
  /** Interface name inside the first namespace. */
  a: string;
  /** Interface name inside the second namespace. */
  b: string;
}

/** Runs a program outside any namespace; resolves with its output and status, never rejects on status. */
function run(cmd: string, args: readonly string[]): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err !== null && typeof err.code === 'string') {
        reject(err); // could not start at all (ENOENT, EACCES)
        return;
      }
      resolve({ stdout, stderr, code: err === null ? 0 : typeof err.code === 'number' ? err.code : null });
    });
  });
}

async function check(cmd: string, args: readonly string[]): Promise<ExecResult> {
  const result = await run(cmd, args);
  if (result.code !== 0) {
    throw new Error(`${cmd} ${args.join(' ')} exited ${result.code}: ${result.stderr.trim()}`);
  }
  return result;
}

function withPrefix(cidr: string, defaultLength: number): string {
  return cidr.includes('/') ? cidr : `${cidr}/${defaultLength}`;
}

let labCount = 0;

/** What a lab disposes before it kills the rest and deletes its namespaces (an agent, a BIRD). */
export interface LabResource {
  dispose(): Promise<void> | void;
  /** Its log, shown by the fixture when the test failed. */
  logs?(): string;
}

export class Lab {
  readonly prefix: string;
  private readonly namespaces: string[] = [];
  private readonly processes = new Set<ChildProcess>();
  private readonly owned: LabResource[] = [];
  private readonly linksIn = new Map<string, Set<string>>();
  private destroyed = false;
  private readonly forgetLastResort: () => void;

  private constructor(name: string) {
    labCount += 1;
    this.prefix = `${runPrefix}${name}${labCount}-`;
    this.forgetLastResort = atLastResort(() => this.destroySync());
  }

  static async create(name: string): Promise<Lab> {
    if (!isRoot) throw new Error(`Lab.create: ${rootSkipReason}`);
    if (!/^[a-z0-9]{1,16}$/.test(name)) throw new Error(`Lab.create: name must be [a-z0-9]{1,16}, got '${name}'`);
    return new Lab(name);
  }

  /** Creates namespace `<prefix><short>` with lo up; returns its real name. */
  async namespace(short: string): Promise<string> {
    this.assertLive();
    const ns = `${this.prefix}${short}`;
    await check('ip', ['netns', 'add', ns]);
    this.namespaces.push(ns);
    this.linksIn.set(ns, new Set());
    await check('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    // No duplicate address detection on links created later, link-local addresses included:
    // a lab has no duplicates, and DAD would hold every new IPv6 address back for a second.
    await this.sysctl(ns, 'net.ipv6.conf.default.accept_dad', 0);
    await this.sysctl(ns, 'net.ipv6.conf.all.accept_dad', 0);
    return ns;
  }

  /**
   * A veth pair between two of this lab's namespaces, both ends up, with addresses (IPv4 default
   * /24, IPv6 default /64, IPv6 added `nodad` so it is usable at once). Interfaces are named
   * after the namespace at the other end (`to-b` inside a).
   */
  async veth(nsA: string, addrA: EndAddresses, nsB: string, addrB: EndAddresses): Promise<Veth> {
    this.assertLive();
    const a = this.linkName(nsA, nsB);
    const b = this.linkName(nsB, nsA);
    await check('ip', ['-n', nsA, 'link', 'add', a, 'type', 'veth', 'peer', 'name', b, 'netns', nsB]);
    for (const [ns, dev, addrs] of [[nsA, a, addrA], [nsB, b, addrB]] as const) {
      const { ipv4, ipv6 } = typeof addrs === 'string' ? { ipv4: addrs, ipv6: undefined } : addrs;
      if (ipv4 !== undefined) await this.ip(ns, 'addr', 'add', withPrefix(ipv4, 24), 'dev', dev);
      if (ipv6 !== undefined) await this.ip(ns, 'addr', 'add', withPrefix(ipv6, 64), 'dev', dev, 'nodad');
      await this.ip(ns, 'link', 'set', dev, 'up');
    }
    // Until the kernel's linkwatch sees carrier the device drops what it is given; wait for it.
    for (const [ns, dev] of [[nsA, a], [nsB, b]] as const) {
      await waitFor(async () => {
        const { stdout } = await this.ip(ns, '-j', 'link', 'show', 'dev', dev);
        return (JSON.parse(stdout) as Array<{ operstate?: string }>)[0]?.operstate === 'UP';
      }, { timeoutMs: 5000, what: `${dev} in ${ns} to be operationally up` });
    }
    return { a, b };
  }

  /**
   * One layer-2 segment: a bridge `br0` in `switchNs` (a namespace of its own, not a host) and a
   * veth from each member namespace to it, the member end addressed. Members share one subnet, as
   * servers of a rack share the ToR's VLAN. Returns each member's interface name.
   */
  async lan(switchNs: string, members: readonly { readonly ns: string; readonly addr: EndAddresses }[]): Promise<string[]> {
    this.assertOwn(switchNs);
    const { stdout } = await this.ip(switchNs, '-j', 'link', 'show');
    if (!(JSON.parse(stdout) as Array<{ ifname: string }>).some((l) => l.ifname === 'br0')) {
      await this.ip(switchNs, 'link', 'add', 'br0', 'type', 'bridge');
      await this.ip(switchNs, 'link', 'set', 'br0', 'up');
    }
    const names: string[] = [];
    for (const m of members) {
      const { a, b } = await this.veth(m.ns, m.addr, switchNs, {});
      await this.ip(switchNs, 'link', 'set', b, 'master', 'br0');
      names.push(a);
    }
    return names;
  }

  /** `ip -n NS ...args`, throwing with ip's message on failure. */
  async ip(ns: string, ...args: string[]): Promise<ExecResult> {
    this.assertOwn(ns);
    return check('ip', ['-n', ns, ...args]);
  }

  /** Sets a sysctl inside the namespace only (net.* sysctls are per namespace). */
  async sysctl(ns: string, key: string, value: string | number): Promise<void> {
    await this.exec(ns, 'sysctl', ['-qw', `${key}=${value}`], { check: true });
  }

  /** Runs a program to completion inside the namespace. */
  async exec(ns: string, cmd: string, args: readonly string[] = [], options: { check?: boolean } = {}):
  Promise<ExecResult> {
    this.assertOwn(ns);
    const argv = ['netns', 'exec', ns, cmd, ...args];
    return options.check === true ? check('ip', argv) : run('ip', argv);
  }

  /** Starts a long-running program inside the namespace; killed (SIGKILL) at destroy(). */
  spawn(ns: string, cmd: string, args: readonly string[] = [], options: SpawnOptions = {}): ChildProcess {
    this.assertOwn(ns);
    // `ip netns exec` execs the command, so the child's pid is the program's own.
    const child = spawn('ip', ['netns', 'exec', ns, cmd, ...args], { stdio: ['ignore', 'pipe', 'pipe'], ...options });
    this.processes.add(child);
    child.once('exit', () => this.processes.delete(child));
    return child;
  }

  /** One TcpExt/IpExt/Tcp counter from /proc/net/netstat or /proc/net/snmp inside the namespace. */
  async counter(ns: string, group: string, name: string): Promise<number | undefined> {
    const { stdout } = await this.exec(ns, 'cat', ['/proc/net/netstat', '/proc/net/snmp'], { check: true });
    return parseCounters(stdout).get(`${group}.${name}`);
  }

  /** Disposes `resource` at destroy(), before the processes are killed; the last owned first. */
  own<T extends LabResource>(resource: T): T {
    this.assertLive();
    this.owned.push(resource);
    return resource;
  }

  /** Runs `cleanup` at destroy() as an owned resource (a temp dir, a socket). */
  defer(cleanup: () => Promise<void> | void): void {
    this.own({ dispose: cleanup });
  }

  /** What the lab owns, oldest first. */
  resources(): readonly LabResource[] {
    return this.owned;
  }

  /**
   * Disposes what the lab owns (last first), kills every tracked process and every process left
   * in the namespaces, then deletes them. A failed dispose is thrown after the namespaces are gone.
   */
  async destroy(): Promise<void> {
    if (this.destroyed) return;
    this.destroyed = true;
    const errors: unknown[] = [];
    for (const resource of [...this.owned].reverse()) {
      try {
        await resource.dispose();
      } catch (err) {
        errors.push(err);
      }
    }
    const exits = [...this.processes].map((child) => new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) {
        resolve();
        return;
      }
      child.once('exit', () => resolve());
      child.kill('SIGKILL');
    }));
    await Promise.all(exits);
    const failures: string[] = [];
    while (this.namespaces.length > 0) {
      const ns = this.namespaces[0];
      await killPidsIn(ns);
      const result = await run('ip', ['netns', 'del', ns]);
      if (result.code !== 0) failures.push(`${ns}: ${result.stderr.trim()}`);
      this.namespaces.shift();
    }
    this.forgetLastResort();
    if (failures.length > 0) throw new Error(`Lab.destroy could not delete: ${failures.join('; ')}`);
    if (errors.length === 1) throw errors[0];
    if (errors.length > 1) throw new AggregateError(errors, `Lab.destroy: ${errors.length} disposes failed`);
  }

  /**
   * The last resort (exit, SIGTERM, SIGINT): synchronous, best effort, also in the middle of a
   * destroy(). Owned resources are not disposed: their processes die with the rest.
   */
  private destroySync(): void {
    this.destroyed = true;
    for (const child of this.processes) child.kill('SIGKILL');
    for (const ns of this.namespaces.splice(0)) {
      try {
        const pids = execFileSync('ip', ['netns', 'pids', ns], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
        for (const pid of pids.split(/\s+/).filter(Boolean)) killQuietly(Number(pid));
        execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
      } catch (err) {
        process.stderr.write(`netns lab: cleanup of ${ns} at exit failed: ${String(err)}\n`);
      }
    }
  }

  private linkName(ns: string, peer: string): string {
    this.assertOwn(ns);
    this.assertOwn(peer);
    const used = this.linksIn.get(ns) ?? new Set<string>();
    const base = `to-${peer.slice(this.prefix.length)}`.slice(0, 12);
    let name = base;
    for (let i = 2; used.has(name); i++) name = `${base}${i}`;
    used.add(name);
    return name;
  }

  private assertOwn(ns: string): void {
    if (!this.namespaces.includes(ns)) throw new Error(`namespace '${ns}' does not belong to lab ${this.prefix}`);
  }

  private assertLive(): void {
    if (this.destroyed) throw new Error(`lab ${this.prefix} is already destroyed`);
  }
}

function killQuietly(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
}

async function killPidsIn(ns: string): Promise<void> {
  const { stdout } = await run('ip', ['netns', 'pids', ns]);
  for (const pid of stdout.split(/\s+/).filter(Boolean)) killQuietly(Number(pid));
}

/** Parses /proc/net/{netstat,snmp} header/value line pairs into `Group.Name` -> value. */
export function parseCounters(text: string): Map<string, number> {
  const counters = new Map<string, number>();
  const lines = text.split('\n');
  for (let i = 0; i + 1 < lines.length; i++) {
    const names = lines[i].split(/\s+/);
    const values = lines[i + 1].split(/\s+/);
    if (names[0] === undefined || !names[0].endsWith(':') || names[0] !== values[0]) continue;
    if (!/^-?\d/.test(values[1] ?? '')) continue;
    const group = names[0].slice(0, -1);
    for (let j = 1; j < names.length; j++) counters.set(`${group}.${names[j]}`, Number(values[j]));
    i++;
  }
  return counters;
}
