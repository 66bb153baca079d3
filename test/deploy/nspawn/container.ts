/**
 * A Debian container with systemd as PID 1 for `npm run test:systemd` (issue 24): the cached root
 * of debian-root.sh booted with `systemd-nspawn -b --register=no --volatile=overlay`, its network
 * a lab namespace (`--network-namespace-path`). `--volatile=overlay` puts a tmpfs over the root:
 * what the test installs and the container writes is gone at the end, and the cached root stays
 * pristine for the next run. The test enters it with nsenter on the container's PID 1 (the child
 * of systemd-nspawn), in a clean environment.
 *
 * nspawn gives a container that shares a namespace it did not create no CAP_NET_ADMIN in its
 * bounding set (the agent's routes then fail with EPERM): it is asked for (`--capability`).
 *
 * The lab owns it: dispose() shuts the container down (SIGTERM to nspawn: systemd halts), then
 * kills PID 1 of its PID namespace if that did not end it. A worker killed outright is covered by
 * the lab's last resort, which kills every process in the namespace (the container's included).
 * Not here: the root (debian-root.sh), the lab around it (world.ts), the proofs (unit.systemd.ts,
 * role.systemd.ts).
 */

import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { captureOutput, type Lab, type LabResource, waitFor } from '../../helpers/netns.js';
import { ROOT, run, type RunResult } from '../paths.js';

export const DEBIAN_ROOT_SCRIPT = join(ROOT, 'test', 'deploy', 'nspawn', 'debian-root.sh');
const PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export interface BootOptions {
  /** The root directory (debian-root.sh's output). */
  root: string;
  /** The lab namespace the container's network is. */
  ns: string;
  /** Host directories bound read-only into the container: [host, inside]. */
  bindReadOnly?: ReadonlyArray<readonly [string, string]>;
  /** Milliseconds to reach multi-user (default 60 s). */
  bootTimeoutMs?: number;
}

export class Container implements LabResource {
  private leaderPid = 0;
  private readonly output: ReturnType<typeof captureOutput>;

  private constructor(private readonly child: ChildProcess, readonly name: string) {
    this.output = captureOutput(child);
  }

  /** Boots the container in the lab's namespace and waits until systemd says running. */
  static async boot(lab: Lab, options: BootOptions): Promise<Container> {
    const name = `${lab.prefix}ct`.replace(/[^A-Za-z0-9-]/g, '-').slice(0, 60);
    const args = ['-D', options.root, '-b', '--register=no', '--keep-unit', '-M', name, '--volatile=overlay',
      `--network-namespace-path=/run/netns/${options.ns}`, '--capability=CAP_NET_ADMIN', '--console=passive',
      ...(options.bindReadOnly ?? []).map(([host, inside]) => `--bind-ro=${host}:${inside}`)];
    // Its own process group: no signal meant for the test's group reaches the container.
    const child = spawn('systemd-nspawn', args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    const container = lab.own(new Container(child, name));
    const what = `the container ${name} to boot`;
    await waitFor(() => {
      if (child.exitCode !== null) throw new Error(`systemd-nspawn exited ${child.exitCode}: ${container.logs()}`);
      return container.findLeader();
    }, { timeoutMs: 10_000, what });
    await waitFor(async () => {
      const r = await container.sh('systemctl is-system-running');
      return ['running', 'degraded'].includes(r.stdout.trim());
    }, { timeoutMs: options.bootTimeoutMs ?? 60_000, intervalMs: 200, what });
    return container;
  }

  /** The container's PID 1 as the host sees it. */
  get leader(): number {
    return this.leaderPid;
  }

  /** `sh -c script` inside the container (all its namespaces, a clean environment, as root). */
  sh(script: string): Promise<RunResult> {
    return run('nsenter', ['-t', String(this.leaderPid), '-m', '-u', '-i', '-n', '-p', '--', 'env', '-i', PATH, 'LC_ALL=C.UTF-8',
      'sh', '-c', script]);
  }

  /** Like sh, but throws when the script fails. */
  async must(script: string): Promise<string> {
    const r = await this.sh(script);
    if (r.code !== 0) throw new Error(`in the container: ${script}\nexit ${r.code}\n${r.stdout}${r.stderr}`);
    return r.stdout;
  }

  /** `systemctl show -P PROPERTY UNIT`. */
  async show(unit: string, property: string): Promise<string> {
    return (await this.must(`systemctl show -P ${property} ${unit}`)).trim();
  }

  /** The unit's journal (systemd's own messages about it included) as JSON entries, oldest first. */
  async journal(unit: string): Promise<JournalEntry[]> {
    const out = await this.must(`journalctl -u ${unit} -o json --no-pager --output-fields=MESSAGE,_PID,__REALTIME_TIMESTAMP,__MONOTONIC_TIMESTAMP`);
    return out.split('\n').filter((line) => line.startsWith('{')).map((line) => {
      const e = JSON.parse(line) as Record<string, unknown>;
      const message = Array.isArray(e.MESSAGE) ? Buffer.from(e.MESSAGE as number[]).toString('utf8') : String(e.MESSAGE ?? '');
      return { message, pid: Number(e._PID ?? 0), realtimeUs: Number(e.__REALTIME_TIMESTAMP), cursor: String(e.__CURSOR ?? '') };
    });
  }

  logs(): string {
    return `systemd-nspawn ${this.name}:\n${this.output.lines.slice(-30).join('\n')}\n${this.output.stderr().slice(-2000)}`;
  }

  async dispose(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.kill('SIGTERM');
    const halted = await Promise.race([exited.then(() => true), new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 20_000).unref())]);
    if (halted) return;
    // Killing PID 1 of a PID namespace ends every process in it; nspawn follows.
    try {
      if (this.leaderPid > 0) process.kill(this.leaderPid, 'SIGKILL');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
    }
    this.child.kill('SIGKILL');
    await exited;
  }

  private findLeader(): boolean {
    const pid = this.child.pid ?? 0;
    try {
      const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean);
      for (const c of children) {
        if (readFileSync(`/proc/${c}/comm`, 'utf8').trim() === 'systemd') {
          this.leaderPid = Number(c);
          return true;
        }
      }
    } catch {
      // nspawn has not forked yet
    }
    return false;
  }
}

export interface JournalEntry {
  message: string;
  pid: number;
  realtimeUs: number;
  cursor: string;
}

/** Builds (once) or finds the cached Debian 13 root; its path. */
export async function debianRoot(): Promise<string> {
  const r = await run(DEBIAN_ROOT_SCRIPT, []);
  if (r.code !== 0) throw new Error(`debian-root.sh failed (${r.code}):\n${r.stderr.slice(-4000)}`);
  return r.stdout.trim().split('\n').at(-1) ?? '';
}
