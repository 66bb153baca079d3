/**
 * Helpers for the control tests: a private socket folder, a raw NDJSON client that keeps every
 * answer line, and agentctl run as a child process (the built bin, as an operator runs it).
 */
import { execFile } from 'node:child_process';
import { chmod, copyFile, cp, mkdtemp, rm } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { waitFor } from '../helpers/netns.js';

export const AGENTCTL = fileURLToPath(new URL('../../agent/cli/agentctl.js', import.meta.url));
/** The repository (the checkout the tests were built in). */
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const FAKE_DAEMON = fileURLToPath(new URL('./fake-daemon.js', import.meta.url));

/** A fresh folder (mode 0755 so other users can reach a socket in it); removed by `cleanup`. */
export async function socketDir(): Promise<{ dir: string; path: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'ra-control-'));
  await chmod(dir, 0o755);
  return { dir, path: join(dir, 'agent.sock'), cleanup: () => rm(dir, { recursive: true, force: true }) };
}

export interface RawClient {
  readonly socket: Socket;
  readonly answers: Record<string, unknown>[];
  /** Set once the server closed or reset the connection. */
  closed: () => boolean;
  send(text: string | Buffer): void;
  /** Resolves when at least `n` answers have arrived. */
  answersAtLeast(n: number, timeoutMs?: number): Promise<Record<string, unknown>[]>;
  close(): void;
}

export async function rawClient(path: string): Promise<RawClient> {
  const socket = connect({ path });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  const answers: Record<string, unknown>[] = [];
  let partial = '';
  let closed = false;
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => {
    const parts = (partial + chunk).split('\n');
    partial = parts.pop() ?? '';
    for (const line of parts) answers.push(JSON.parse(line) as Record<string, unknown>);
  });
  socket.on('error', () => {
    closed = true;
  });
  socket.on('close', () => {
    closed = true;
  });
  return {
    socket,
    answers,
    closed: () => closed,
    send: (text) => {
      if (!socket.destroyed) socket.write(text);
    },
    answersAtLeast: (n, timeoutMs = 5000) =>
      waitFor(() => answers.length >= n && answers, { timeoutMs, what: `${n} answers (have ${answers.length})` }),
    close: () => socket.destroy(),
  };
}

/** One request over a fresh connection. */
export async function ask(path: string, request: Record<string, unknown>): Promise<Record<string, unknown>> {
  const client = await rawClient(path);
  try {
    client.send(`${JSON.stringify(request)}\n`);
    return (await client.answersAtLeast(1))[0];
  } finally {
    client.close();
  }
}

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a program to its end; never rejects on exit status. */
export function runProgram(cmd: string, args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { encoding: 'utf8', env: { PATH: process.env.PATH, TZ: 'UTC', ...env }, timeout: 60_000 }, (err, stdout, stderr) => {
      if (err !== null && typeof err.code === 'string') {
        reject(err);
        return;
      }
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : null, stdout, stderr });
    });
  });
}

export function agentctl(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  return runProgram(process.execPath, [AGENTCTL, ...args], env);
}

/**
 * A copy of the built agentctl that every user can run: package.json (for "type": "module") and
 * dist/{agent,config} in a fresh 0755 folder under the temp directory. The checkout itself may be
 * one other users cannot enter (a clone under /root or in a 0700 temp dir), and a test that runs
 * agentctl as `nobody` must not depend on where it was cloned. agentctl needs no node_modules.
 */
export async function agentctlForEveryone(): Promise<{ agentctl: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'ra-agentctl-'));
  await chmod(dir, 0o755);
  await copyFile(join(ROOT, 'package.json'), join(dir, 'package.json'));
  for (const part of ['agent', 'config']) await cp(join(ROOT, 'dist', part), join(dir, 'dist', part), { recursive: true });
  return { agentctl: join(dir, 'dist', 'agent', 'cli', 'agentctl.js'), cleanup: () => rm(dir, { recursive: true, force: true }) };
}
