#!/usr/bin/env node
/**
 * agentctl: the operator's view of a running rack-agent over its control socket (SPEC.md
 * "Programs", "agentctl status", "Exit statuses"). Text through render.ts, or with `-o json`
 * the daemon's answer unchanged. Exit 0 success, 1 error answer (or `wait` timed out, or a
 * `check` row failed), 2 usage, 3 the agent is not reachable. `wait` keeps trying to
 * connect until its timeout, so it also covers an agent that is still starting.
 */

import { readFileSync } from 'node:fs';

import { MAX_CHECK_TIMEOUT } from '../config/formats.js';
import { renderCheck } from './check/render.js';
import type { CheckAnswer, Command, ControlResponse, PeerAnswer, ReloadAnswer, RouteAnswer, StatusAnswer } from './control/api.js';
import { type CliCommand, type Invocation, parseArgs, USAGE } from './control/cli-args.js';
import { ClientError, request } from './control/client.js';
import {
  NOT_RUNNING, type RenderOptions, renderPeerDetail, renderPeers, renderReload, renderRoutes, renderStatus,
  renderVersion, renderWait,
} from './control/render.js';

const EXIT = { ok: 0, error: 1, usage: 2, unreachable: 3 } as const;

/** How long a plain request may take before the agent counts as not answering. */
const REQUEST_TIMEOUT_MS = 15_000;
const RETRY_CONNECT_MS = 250;

function clientVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: unknown };
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

function requestArgs(command: CliCommand): Record<string, unknown> {
  switch (command.cmd) {
    case 'peers': return command.address === undefined ? {} : { address: command.address };
    case 'routes': return command.family === undefined ? {} : { family: command.family };
    case 'wait': return { timeout: command.timeoutSeconds };
    case 'check': return command.timeoutSeconds === undefined ? {} : { timeout: command.timeoutSeconds };
    default: return {};
  }
}

/** The request, retried while nothing answers for `wait` (an agent that is starting). */
async function ask(socket: string, command: CliCommand & { cmd: Command }): Promise<ControlResponse> {
  if (command.cmd === 'check') {
    // The daemon ends its probes at the timeout (its config's when none is given: at most the maximum).
    const probing = (command.timeoutSeconds ?? MAX_CHECK_TIMEOUT) * 1000;
    return request(socket, 'check', requestArgs(command), { timeoutMs: probing + REQUEST_TIMEOUT_MS });
  }
  if (command.cmd !== 'wait') return request(socket, command.cmd, requestArgs(command), { timeoutMs: REQUEST_TIMEOUT_MS });
  const deadline = Date.now() + command.timeoutSeconds * 1000;
  for (;;) {
    const left = Math.max(0, deadline - Date.now());
    try {
      return await request(socket, 'wait', { timeout: left / 1000 }, { timeoutMs: left + REQUEST_TIMEOUT_MS });
    } catch (e) {
      if (!(e instanceof ClientError) || e.code !== 'NOT_RUNNING' || Date.now() + RETRY_CONNECT_MS > deadline) throw e;
      await new Promise((resolve) => setTimeout(resolve, RETRY_CONNECT_MS));
    }
  }
}

function unreachable(invocation: Invocation & { kind: 'run' }, e: ClientError): number {
  if (e.code === 'NOT_RUNNING' && invocation.command.cmd === 'status') {
    out(invocation.output === 'json' ? `${JSON.stringify({ running: false })}\n` : `${NOT_RUNNING}\n`);
  } else if (e.code === 'NOT_RUNNING') {
    err(`${NOT_RUNNING} (${e.message})`);
  } else {
    err(e.message);
  }
  return EXIT.unreachable;
}

/** Prints a successful answer; returns the exit status. */
function show(command: CliCommand, data: unknown, options: RenderOptions, version: string): number {
  switch (command.cmd) {
    case 'status':
      out(renderStatus(data as StatusAnswer, options));
      return EXIT.ok;
    case 'peers':
      out(command.address === undefined ? renderPeers(data as PeerAnswer[], options) : renderPeerDetail(data as PeerAnswer[], options));
      return EXIT.ok;
    case 'routes':
      out(renderRoutes(data as RouteAnswer[]));
      return EXIT.ok;
    case 'wait': {
      const answer = data as { converged: boolean; waited: number };
      out(renderWait(answer));
      return answer.converged ? EXIT.ok : EXIT.error;
    }
    case 'reload': {
      const answer = data as ReloadAnswer;
      if (answer.applied) out(renderReload(answer));
      else process.stderr.write(renderReload(answer));
      return answer.applied ? EXIT.ok : EXIT.error;
    }
    case 'version':
      out(renderVersion(version, data as { version: string; node: string }));
      return EXIT.ok;
    case 'check': {
      const answer = data as CheckAnswer;
      out(renderCheck(answer, { colour: options.colour }));
      return answer.ok ? EXIT.ok : EXIT.error;
    }
  }
}

/** JSON mode: the answer's data as the daemon sent it; the exit status still says what it meant. */
function jsonStatus(command: CliCommand, data: unknown): number {
  if (command.cmd === 'wait') return (data as { converged?: unknown }).converged === true ? EXIT.ok : EXIT.error;
  if (command.cmd === 'reload') return (data as { applied?: unknown }).applied === true ? EXIT.ok : EXIT.error;
  if (command.cmd === 'check') return (data as { ok?: unknown }).ok === true ? EXIT.ok : EXIT.error;
  return EXIT.ok;
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
  const version = clientVersion();
  let answer: ControlResponse;
  try {
    answer = await ask(invocation.socket, command);
  } catch (e) {
    if (!(e instanceof ClientError)) throw e;
    if (command.cmd === 'version' && invocation.output === 'table') out(`agentctl ${version}\n`);
    return unreachable(invocation, e);
  }
  if (!answer.ok) {
    if (invocation.output === 'json') out(`${JSON.stringify({ error: answer.error })}\n`);
    else err(`${answer.error.code}: ${answer.error.message}`);
    return EXIT.error;
  }
  if (invocation.output === 'json') {
    out(`${JSON.stringify(answer.data)}\n`);
    return jsonStatus(command, answer.data);
  }
  return show(command, answer.data, { now: new Date(), colour: useColour() }, version);
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
