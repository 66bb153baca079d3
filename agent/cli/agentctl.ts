#!/usr/bin/env node
/**
 * agentctl: the operator's view of a running rack-agent over its control socket (SPEC.md
 * "Programs", "agentctl status", "Exit statuses"). Each command is a row of control/commands.ts:
 * its arguments, request, text (render.ts) and exit rule. With `-o json`
 * the daemon's answer unchanged. Exit 0 success, 1 error answer (or `wait` timed out, or a
 * `check` row failed), 2 usage, 3 the agent is not reachable. `wait` keeps trying to
 * connect until its timeout, so it also covers an agent that is still starting.
 */

import { readFileSync } from 'node:fs';

import type { Command, ControlResponse } from '../control/api.js';
import { type CliCommand, type Invocation, parseArgs, USAGE } from './cli-args.js';
import { ClientError, request } from './client.js';
import { commandRow, type PrintOptions } from '../control/commands.js';
import { NOT_RUNNING } from '../control/render.js';

const EXIT = { ok: 0, error: 1, usage: 2, unreachable: 3 } as const;

const RETRY_CONNECT_MS = 250;

function clientVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version?: unknown };
    return typeof pkg.version === 'string' ? pkg.version : 'unknown';
  } catch {
    return 'unknown';
  }
}

function useColour(): boolean {
  return process.stdout.isTTY === true && process.env.NO_COLOR === undefined && process.env.TERM !== 'dumb';
}

const out = (text: string): void => {
  process.stdout.write(text);
};
const err = (text: string): void => {
  process.stderr.write(`agentctl: ${text}\n`);
};

/** The request; a command with a retry rule (`wait`) keeps trying while nothing answers (an agent that is starting). */
async function ask<C extends Command>(socket: string, cmd: C, args: CliCommand & { cmd: C }): Promise<ControlResponse> {
  const row = commandRow(cmd);
  if (row.retry === undefined) return request(socket, cmd, row.toWire(args), { timeoutMs: row.clientTimeoutMs(args) });
  // Node's own timers, not agent/contracts/clock.ts: agentctl is a short-lived program of its own,
  // not an engine of the daemon, and this pause between connects must hold the process (systemClock's
  // timers are unref'd: with no socket open, agentctl would exit in the middle of `wait`).
  const deadline = Date.now() + row.retry.seconds(args) * 1000;
  for (;;) {
    const rest = row.retry.rest(args, Math.max(0, deadline - Date.now()) / 1000);
    try {
      return await request(socket, cmd, row.toWire(rest), { timeoutMs: row.clientTimeoutMs(rest) });
    } catch (e) {
      if (!(e instanceof ClientError) || e.code !== 'NOT_RUNNING' || Date.now() + RETRY_CONNECT_MS > deadline) throw e;
      await new Promise((resolve) => setTimeout(resolve, RETRY_CONNECT_MS));
    }
  }
}

function unreachable(invocation: Invocation & { kind: 'run' }, e: ClientError, options: PrintOptions): number {
  const said = commandRow(invocation.command.cmd).unreachable?.(invocation.output, options, e.code) ?? { stdout: '', error: true };
  out(said.stdout);
  if (said.error) err(e.code === 'NOT_RUNNING' ? `${NOT_RUNNING} (${e.message})` : e.message);
  return EXIT.unreachable;
}

async function main(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  const invocation = parseArgs(argv, env);
  if (invocation.kind === 'help') {
    out(USAGE);
    return EXIT.ok;
  }
  if (invocation.kind === 'usage') {
    err(invocation.message);
    process.stderr.write(USAGE);
    return EXIT.usage;
  }
  const { command } = invocation;
  const options: PrintOptions = { now: new Date(), colour: useColour(), clientVersion: clientVersion() };
  let answer: ControlResponse;
  try {
    answer = await ask(invocation.socket, command.cmd, command);
  } catch (e) {
    if (!(e instanceof ClientError)) throw e;
    return unreachable(invocation, e, options);
  }
  if (!answer.ok) {
    if (invocation.output === 'json') out(`${JSON.stringify({ error: answer.error })}\n`);
    else err(`${answer.error.code}: ${answer.error.message}`);
    return EXIT.error;
  }
  const row = commandRow(command.cmd);
  // The answer's type is the command's (api.ts CommandTypes): the daemon built it from the same table.
  const data = answer.data as never;
  if (invocation.output === 'json') {
    // JSON mode: the answer's data as the daemon sent it; the exit status still says what it meant.
    out(`${JSON.stringify(answer.data)}\n`);
  } else {
    const shown = row.render(data, command as never, options);
    if (shown.stderr === true) process.stderr.write(shown.text);
    else out(shown.text);
  }
  return row.succeeded(data) ? EXIT.ok : EXIT.error;
}

// `agentctl routes | head`: a reader that leaves early is not an error.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(process.exitCode ?? EXIT.ok);
  throw e;
});

main(process.argv.slice(2), process.env).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    err(`unexpected failure: ${e instanceof Error ? e.message : String(e)}`);
    process.exitCode = EXIT.error;
  },
);
