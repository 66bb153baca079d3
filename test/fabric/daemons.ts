/**
 * The processes of the fabric lab: `FabricBird`, BIRD 2 from config text (ToRs, the spine, and BIRD
 * as a node agent) with its own config, socket, log and pid in a temp dir, and `NodeAgent`, what a
 * scenario does to a node agent whichever it is (rack-agent from a config doc, or BIRD as calico/node
 * runs it, always with `-R` as calico/node starts it), and `FabricRouter`, a ToR or the spine as
 * scenarios see it (FabricBird, or the `unnumbered` model's FRR ToRs: unnumbered.ts). Also /proc
 * readings (VmRSS, VmHWM, CPU).
 * Not here: the plan (topology.ts), config text (bird-configs.ts), namespaces (../helpers/netns.ts).
 */
import type { ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Agent, AGENTCTL, type ConfigDoc } from '../helpers/agent.js';
import { DaemonError, execTool, hasExited, keepOutput, makeTempDir, removeTempDir, waitReady } from '../helpers/bgp-daemon.js';
import type { Lab } from '../helpers/netns.js';
import type { NodeAgentKind } from './topology.js';

/**
 * A ToR or the spine as scenarios and checks see it, whichever daemon runs it (FabricBird here; FRR
 * for the `unnumbered` ToRs, unnumbered.ts).
 */
export interface FabricRouter {
  readonly ns: string;
  readonly pid: number | undefined;
  /** BGP sessions by name -> {established, since}; `since` changes whenever the session resets. */
  sessions(): Promise<Map<string, { established: boolean; since: string }>>;
  /** SIGKILL of the BGP daemon; resolves once it is gone. */
  kill(): Promise<void>;
  /** Starts it (again); `recovery`: as a graceful restart where the daemon can. */
  start(recovery?: boolean): Promise<void>;
  /** Freezes or thaws the control plane (the kernel keeps forwarding). */
  signal(sig: 'SIGSTOP' | 'SIGCONT'): void;
  /** A shell command to inspect it. */
  explore(): string;
  logs(): string;
  dispose(): Promise<void>;
}

export class FabricBird implements FabricRouter {
  private child: ChildProcess | undefined;
  private output: () => string = () => '';
  readonly dir: string;

  constructor(private readonly lab: Lab, readonly ns: string, private readonly config: (dir: string) => string) {
    this.dir = makeTempDir('fabric-bird');
  }

  get socket(): string {
    return join(this.dir, 'bird.ctl');
  }

  get pid(): number | undefined {
    return this.child !== undefined && !hasExited(this.child) ? this.child.pid : undefined;
  }

  /** Writes bird.conf (checked with `bird -p`) and starts BIRD; `recovery` adds `-R`. */
  async start(recovery = false): Promise<void> {
    const path = join(this.dir, 'bird.conf');
    writeFileSync(path, this.config(this.dir));
    const check = await execTool('bird', ['-p', '-c', path]);
    if (check.code !== 0) throw new DaemonError('DAEMON_CONFIG', `bird -p: ${check.stderr}${check.stdout}\n${readFileSync(path, 'utf8')}`);
    const child = this.lab.spawn(this.ns, 'bird', ['-f', ...(recovery ? ['-R'] : []), '-c', path, '-s', this.socket, '-P', join(this.dir, 'bird.pid')]);
    this.child = child;
    this.output = keepOutput(child);
    await waitReady(child, `bird in ${this.ns}`, async () => {
      const r = await execTool('birdc', ['-s', this.socket, 'show', 'status']);
      return r.code === 0 && /Daemon is up and running/.test(r.stdout);
    }, this.output);
  }

  async birdc(...command: string[]): Promise<string> {
    const r = await execTool('birdc', ['-s', this.socket, ...command]);
    if (r.code !== 0) throw new DaemonError('DAEMON_QUERY', `birdc ${command.join(' ')}: ${r.stdout}${r.stderr}`);
    return r.stdout.replace(/^BIRD [^\n]* ready\.\n/, '');
  }

  /** `show protocols`: BGP protocol name -> {state, since}; since changes on every session change. */
  async sessions(): Promise<Map<string, { established: boolean; since: string }>> {
    const out = new Map<string, { established: boolean; since: string }>();
    const re = /^(\S+)\s+BGP\s+\S+\s+\S+\s+(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d+)?)\s+(\S+)/gm;
    for (const m of (await this.birdc('show', 'protocols')).matchAll(re)) out.set(m[1], { since: m[2], established: m[3] === 'Established' });
    return out;
  }

  /** SIGKILL (or SIGTERM: BIRD's orderly shutdown); resolves once BIRD is gone. */
  async kill(signal: 'SIGKILL' | 'SIGTERM' = 'SIGKILL'): Promise<void> {
    const child = this.child;
    if (child === undefined || hasExited(child)) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGCONT');
    child.kill(signal);
    await exited;
  }

  /** Rewrites bird.conf from the config function and runs `birdc configure` (BIRD's reload). */
  async reconfigure(): Promise<void> {
    const path = join(this.dir, 'bird.conf');
    writeFileSync(path, this.config(this.dir));
    const answer = await this.birdc('configure', `"${path}"`);
    if (!/Reconfigured|Reconfiguration in progress/.test(answer)) throw new DaemonError('DAEMON_CONFIG', `birdc configure: ${answer}`);
  }

  signal(sig: 'SIGSTOP' | 'SIGCONT'): void {
    this.child?.kill(sig);
  }

  explore(): string {
    return `birdc -s ${this.socket} show protocols`;
  }

  logs(): string {
    let log = '';
    try {
      log = readFileSync(join(this.dir, 'bird.log'), 'utf8').slice(-4096);
    } catch {
      log = '(no bird.log)';
    }
    return `--- bird ${this.ns} ---\n${log}${this.output()}`;
  }

  async dispose(): Promise<void> {
    await this.kill();
    removeTempDir(this.dir);
  }
}

export interface ProcStat {
  readonly rssKb: number;
  readonly hwmKb: number;
  /** utime + stime, milliseconds. */
  readonly cpuMs: number;
}

/** VmRSS, VmHWM and CPU time of a live process; zeros if it is gone. */
export function procStat(pid: number | undefined): ProcStat {
  if (pid === undefined) return { rssKb: 0, hwmKb: 0, cpuMs: 0 };
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (k: string): number => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? 0);
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]); // utime, stime (proc(5) fields 14, 15)
    return { rssKb: kb('VmRSS'), hwmKb: kb('VmHWM'), cpuMs: ticks * 10 };
  } catch {
    return { rssKb: 0, hwmKb: 0, cpuMs: 0 };
  }
}

/** A node agent as scenarios see it. */
export interface NodeAgent {
  readonly kind: NodeAgentKind;
  readonly ns: string;
  pid(): number | undefined;
  /** SIGKILL, as a crash. */
  kill(): Promise<void>;
  /** SIGTERM, as systemd stops it; resolves once it is gone. */
  stop(): Promise<void>;
  /** RFC 8326 drain on or off (`agentctl drain` / `undrain`; BIRD: its config's drain, `birdc configure`). */
  drain(on: boolean): Promise<void>;
  /** Starts it again after kill (BIRD with -R, as calico/node does; rack-agent as systemd would). */
  restart(): Promise<void>;
  /** Applies the node's new blocks as a config reload (SIGHUP; `birdc configure`). */
  reload(blocks: readonly string[]): Promise<void>;
  /**
   * Takes its IPv4 session to the ToR administratively down or up (a reload without the first
   * peer, the IPv4 one; `birdc disable` of the first Node_ protocol, the IPv4 one).
   */
  sessionAdmin(up: boolean, blocks: readonly string[]): Promise<void>;
  /** A shell command to inspect it. */
  explore(): string;
  logs(): string;
  dispose(): Promise<void>;
}

export function rackAgentNode(agent: Agent, docFor: (blocks: readonly string[]) => ConfigDoc): NodeAgent {
  return {
    kind: 'rack-agent',
    ns: agent.ns,
    pid: () => (agent.running ? agent.pid : undefined),
    kill: async () => { await agent.kill('SIGKILL'); },
    stop: async () => { await agent.kill('SIGTERM', 25_000); },
    drain: async (on) => {
      const r = await agent.ctl([on ? 'drain' : 'undrain']);
      if (r.status !== 0) throw new DaemonError('DAEMON_QUERY', `agentctl ${on ? 'drain' : 'undrain'}: ${r.stdout}${r.stderr}`);
    },
    restart: () => agent.launch(true),
    reload: async (blocks) => {
      agent.writeConfig(docFor(blocks));
      agent.signal('SIGHUP');
    },
    sessionAdmin: async (up, blocks) => {
      const doc = docFor(blocks);
      agent.writeConfig(up ? doc : { ...doc, bgp: { ...doc.bgp, peers: doc.bgp.peers.slice(1) } });
      agent.signal('SIGHUP');
    },
    explore: () => `node ${AGENTCTL} --socket ${agent.socket} status`,
    logs: () => agent.logs().slice(-4096),
    dispose: () => agent.dispose(),
  };
}

/** `setDrained` switches the drain in the config function's input (an operator's edit of bird.conf). */
export function birdNode(bird: FabricBird, setDrained: (on: boolean) => void = () => undefined): NodeAgent {
  return {
    kind: 'bird',
    ns: bird.ns,
    pid: () => bird.pid,
    kill: () => bird.kill(),
    stop: () => bird.kill('SIGTERM'),
    drain: async (on) => {
      setDrained(on);
      await bird.reconfigure();
    },
    restart: () => bird.start(true),
    reload: () => bird.reconfigure(),
    sessionAdmin: async (up) => {
      const proto = (await bird.birdc('show', 'protocols')).match(/^Node_\S+/m)?.[0];
      if (proto === undefined) throw new Error(`no ToR protocol in ${bird.ns}`);
      await bird.birdc(up ? 'enable' : 'disable', proto);
    },
    explore: () => `birdc -s ${bird.socket} show protocols all`,
    logs: () => bird.logs(),
    dispose: () => bird.dispose(),
  };
}

export async function startRackAgent(lab: Lab, ns: string, docFor: (blocks: readonly string[]) => ConfigDoc,
  blocks: readonly string[]): Promise<NodeAgent> {
  return rackAgentNode(await Agent.start(lab, ns, docFor(blocks)), docFor);
}
