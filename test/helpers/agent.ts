/**
 * The real agent as a test peer: `Agent.start(lab, ns, doc)` writes the config (YAML) into a temp
 * dir with the control socket beside it, runs `node dist/agent/main.js --config FILE` inside the
 * namespace, and waits until the control socket answers. `ctl(...)` runs the real agentctl against
 * it; `status()` is `agentctl status -o json` parsed. Used by the end-to-end, reload, route
 * reflection, mesh, restart tests and by the demo.
 *
 * The temp dir (/tmp/rack-agent-test-*) is removed by dispose(); when a start fails, before
 * start() throws; and for an agent never disposed (a forgotten dispose, a test abandoned by its
 * t.timeout, a worker ended by ava's timeout with SIGTERM or by SIGINT) when the process exits.
 * The lab owns every agent started in it: Lab.destroy disposes the ones still running.
 * Not here: namespaces (netns.ts), BIRD/FRR (bird.ts, frr.ts).
 */
import { execFile, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import type { StatusAnswer } from '../../agent/control/api.js';
import { atLastResort } from './last-resort.js';
import { captureOutput, type Lab, type Output, waitFor } from './netns.js';

/** Temp dirs not yet removed, each with the removal of its last-resort cleanup. */
const liveDirs = new Map<string, () => void>();

/** Removes `dir` at process exit or on SIGTERM/SIGINT (last-resort.ts) if nothing has before. */
function track(dir: string): string {
  liveDirs.set(dir, atLastResort(() => rmSync(dir, { recursive: true, force: true })));
  return dir;
}

function removeDir(dir: string): void {
  liveDirs.get(dir)?.();
  liveDirs.delete(dir);
  rmSync(dir, { recursive: true, force: true });
}

export const MAIN = fileURLToPath(new URL('../../agent/main.js', import.meta.url));
export const AGENTCTL = fileURLToPath(new URL('../../agent/cli/agentctl.js', import.meta.url));

export interface CtlResult {
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs agentctl (outside any namespace: the socket is a file) against `socket`. */
export function agentctl(socket: string, args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<CtlResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, [AGENTCTL, '--socket', socket, ...args], { env: { PATH: process.env.PATH, ...env }, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      resolve({ status: err === null ? 0 : typeof err.code === 'number' ? err.code : -1, stdout, stderr });
    });
  });
}

export interface AgentExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type ConfigDoc = Record<string, any>;

export class Agent {
  readonly dir: string;
  readonly configPath: string;
  readonly socket: string;
  private child: ChildProcess | null = null;
  private output: Output | null = null;
  /** Lines of every run of this agent, oldest first. */
  readonly history: string[] = [];

  private constructor(readonly lab: Lab, readonly ns: string, public doc: ConfigDoc, dir?: string) {
    this.dir = track(dir ?? mkdtempSync(join(tmpdir(), 'rack-agent-test-')));
    this.configPath = join(this.dir, 'agent.yaml');
    this.socket = join(this.dir, 'agent.sock');
    // The lab stops it before deleting its namespaces; agent-dirs.test.ts starts one with no lab.
    (lab as Partial<Lab>).own?.(this);
  }

  /** Writes the config and starts the agent (unless `launch: false`); the control socket path and log defaults are filled in. */
  static async start(lab: Lab, ns: string, doc: ConfigDoc, options: { dir?: string; wait?: boolean; launch?: boolean } = {}): Promise<Agent> {
    const agent = new Agent(lab, ns, doc, options.dir);
    try {
      agent.writeConfig(doc);
      if (options.launch !== false) await agent.launch(options.wait ?? true);
      return agent;
    } catch (err) {
      await agent.dispose().catch(() => undefined); // the caller never sees this agent to dispose it
      throw err;
    }
  }

  writeConfig(doc: ConfigDoc): void {
    this.doc = doc;
    const full = { ...doc, control: { socket: this.socket, ...(doc.control ?? {}) }, log: { level: 'debug', format: 'text', ...(doc.log ?? {}) } };
    writeFileSync(this.configPath, stringify(full));
  }

  /** Writes raw text as the config file (for broken-file tests). */
  writeRaw(text: string): void {
    writeFileSync(this.configPath, text);
  }

  async launch(wait = true): Promise<void> {
    const child = this.lab.spawn(this.ns, process.execPath, [MAIN, '--config', this.configPath]);
    this.child = child;
    this.output = captureOutput(child);
    if (!wait) return;
    await waitFor(async () => {
      if (child.exitCode !== null) throw new Error(`agent in ${this.ns} exited ${child.exitCode}:\n${this.logs()}`);
      return existsSync(this.socket) && (await this.ctl(['version'])).status === 0;
    }, { timeoutMs: 20_000, what: `the agent in ${this.ns} to answer on its control socket` });
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get running(): boolean {
    return this.child !== null && this.child.exitCode === null && this.child.signalCode === null;
  }

  ctl(args: readonly string[]): Promise<CtlResult> {
    return agentctl(this.socket, args);
  }

  async status(): Promise<StatusAnswer> {
    const r = await this.ctl(['status', '-o', 'json']);
    if (r.status !== 0) throw new Error(`agentctl status exited ${r.status}: ${r.stderr}${r.stdout}`);
    return JSON.parse(r.stdout) as StatusAnswer;
  }

  /** Waits until every listed peer (all when omitted) is Established. */
  async waitEstablished(addresses?: readonly string[], timeoutMs = 30_000): Promise<StatusAnswer> {
    return waitFor(async () => {
      const s = await this.status();
      const peers = addresses ? s.peers.filter((p) => addresses.includes(p.address)) : s.peers;
      return peers.length > 0 && peers.every((p) => p.state === 'Established') ? s : undefined;
    }, { timeoutMs, what: `peers of the agent in ${this.ns} to be Established` });
  }

  logs(): string {
    return [...this.history, ...(this.output?.lines ?? []), this.output?.stderr() ?? ''].join('\n');
  }

  /**
   * Sends a signal and waits for the process to exit (SIGTERM, SIGKILL), keeping its log. Resolves
   * with how it exited (a crash is `{code: null, signal: 'SIGSEGV'}`); undefined if it was not running.
   */
  async kill(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 10_000): Promise<AgentExit | undefined> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return undefined;
    const exited = new Promise<AgentExit>((resolve) => child.once('exit', (code, sig) => resolve({ code, signal: sig })));
    child.kill(signal);
    const exit = await Promise.race([exited, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`agent in ${this.ns} did not exit after ${signal}`)), timeoutMs).unref())]);
    this.history.push(...(this.output?.lines ?? []), this.output?.stderr() ?? '');
    this.output = null;
    this.child = null;
    return exit;
  }

  /** Log lines of the current run so far. */
  lines(): readonly string[] {
    return this.output?.lines ?? [];
  }

  signal(signal: NodeJS.Signals): void {
    this.child?.kill(signal);
  }

  async dispose(): Promise<void> {
    try {
      await this.kill('SIGKILL');
    } finally {
      removeDir(this.dir);
    }
  }
}
