/**
 * The control commands as one table (STYLE.md "Control and CLI"): a row per command says whether
 * it only reads, how agentctl reads its arguments from the command line, how the daemon checks
 * them on the wire, what the daemon answers (over ControlHandlers), how agentctl prints the answer
 * and which exit status the answer means. agentctl (agent/cli/) and the
 * server (protocol.ts, server.ts) both read it, so a new command is one row here, its types in
 * api.ts CommandTypes, and its handler in agent/daemon/answers.ts.
 * Not here: sockets (server.ts, client.ts), request framing (protocol.ts), the text itself (render.ts).
 */

import { isIP } from 'node:net';

import { MAX_CHECK_TIMEOUT } from '../../config/formats.js';
import type { Clock } from '../contracts/clock.js';
import type { AnswerOf, ArgsOf, Command, ControlHandlers } from './api.js';
import { ControlError } from './errors.js';
import { NOT_RUNNING, renderCheck, renderDrain, renderPeerDetail, renderPeers, renderReload, renderRouteDetail, renderRoutes, renderServices, renderStatus, renderVersion, renderWait, type RenderOptions } from './render.js';
import { waitConverged } from './wait.js';

/** `wait` never holds a connection longer than this, whatever the client asks. */
export const MAX_WAIT_SECONDS = 24 * 3600;
/** `agentctl wait` without --timeout. */
export const DEFAULT_WAIT_SECONDS = 60;
/** How long a plain request may take before agentctl counts the agent as not answering. */
export const REQUEST_TIMEOUT_MS = 15_000;
const MAX_ADDRESS_LENGTH = 64;

/** A request's `args` object as it came over the wire. */
export type WireArgs = Readonly<Record<string, unknown>>;

/** What agentctl's command line gave a command: its positional argument and `--option value`s by name. */
export interface CliInput {
  readonly positional: string | undefined;
  readonly values: ReadonlyMap<string, string>;
}

/** What the server lends a command while it runs. */
export interface ServeContext {
  /** Aborted when the client leaves or the agent closes. */
  readonly signal: AbortSignal;
  /** How often `wait` polls. */
  readonly waitPollMs: number;
  /** The server's clock (`wait`'s polls and timeout). */
  readonly clock: Clock;
}

/** What agentctl prints for an answer, and where. */
export interface Rendered {
  readonly text: string;
  readonly stderr?: boolean;
}

export interface PrintOptions extends RenderOptions {
  /** agentctl's own version, for `version`. */
  readonly clientVersion: string;
}

/** A value option of the command line, e.g. `--timeout SECONDS`: its flag and its name in CliInput. */
export type CliOption = { readonly flag: '--family'; readonly name: 'family' } | { readonly flag: '--timeout'; readonly name: 'timeout' }
  /** A flag without a value: CliInput holds 'true' when it was given. */
  | { readonly flag: '--detail'; readonly name: 'detail'; readonly flagOnly: true };

export interface CommandRow<C extends Command> {
  /** Read-only commands are open to the socket's group; the others need root. */
  readonly readOnly: boolean;
  /** USAGE: the synopsis, then the description's lines. */
  readonly usage: readonly [string, string, ...string[]];
  /** The one positional argument after the command (`peers ADDRESS`), if it takes one. */
  readonly positional?: boolean;
  /** Value options besides --socket and -o. */
  readonly options?: readonly CliOption[];
  /** The command line's values as the command's arguments, or a usage message. */
  fromCli(input: CliInput): ArgsOf<C> | string;
  /** The request's `args` as the command's arguments, or a message naming the bad one. */
  fromWire(args: WireArgs): ArgsOf<C> | string;
  /** The arguments as a request's `args`. */
  toWire(args: ArgsOf<C>): WireArgs;
  /** How long agentctl waits for the answer. */
  clientTimeoutMs(args: ArgsOf<C>): number;
  /** agentctl keeps connecting to an agent that is not (yet) up, until `seconds` pass: `wait`. */
  readonly retry?: { seconds(args: ArgsOf<C>): number; rest(args: ArgsOf<C>, leftSeconds: number): ArgsOf<C> };
  /** What the daemon answers. A ControlError becomes its error answer. */
  serve(handlers: ControlHandlers, args: ArgsOf<C>, ctx: ServeContext): AnswerOf<C> | Promise<AnswerOf<C>>;
  /** What agentctl prints for a successful answer. */
  render(answer: AnswerOf<C>, args: ArgsOf<C>, options: PrintOptions): Rendered;
  /** Exit 0 (true) or 1 (false) for a successful answer, in text and in JSON. */
  succeeded(answer: AnswerOf<C>): boolean;
  /**
   * What agentctl prints on stdout when the agent does not answer (`code`: ClientError's), and
   * whether the error line still goes to stderr. Default: nothing, and the error line.
   */
  unreachable?(output: 'table' | 'json', options: PrintOptions, code: string): { readonly stdout: string; readonly error: boolean };
}

// ---- argument checks shared by the command line and the wire -----------------------------------

/** Checks a peer address the way the CLI and server agree on: an IP, optionally `ip:port`. */
export function looksLikePeerAddress(text: string): boolean {
  if (isIP(text) !== 0) return true;
  const v6 = /^\[([^\]]+)\]:(\d{1,5})$/.exec(text);
  if (v6 !== null) return isIP(v6[1]) === 6 && Number(v6[2]) <= 65535;
  const v4 = /^([^:]+):(\d{1,5})$/.exec(text);
  return v4 !== null && isIP(v4[1]) === 4 && Number(v4[2]) <= 65535;
}

/** A check's probe timeout: above 0, at most MAX_CHECK_TIMEOUT seconds. */
export function validCheckTimeout(seconds: unknown): seconds is number {
  return typeof seconds === 'number' && Number.isFinite(seconds) && seconds > 0 && seconds <= MAX_CHECK_TIMEOUT;
}

function only(args: WireArgs, allowed: readonly string[]): string | null {
  const extra = Object.keys(args).find((key) => !allowed.includes(key));
  return extra === undefined ? null : `unexpected argument '${extra}'`;
}

/** A decimal number of seconds on the command line (no sign, no exponent). */
const secondsText = (text: string): boolean => /^\d+(\.\d+)?$/.test(text);

const noArgs = {
  fromCli: () => ({}),
  fromWire: (args: WireArgs) => only(args, []) ?? {},
  toWire: () => ({}),
};
const plainTimeout = (): number => REQUEST_TIMEOUT_MS;
const always = (): boolean => true;

// ---- the table ------------------------------------------------------------------------------

/** The commands, in the order USAGE and messages name them. */
export const COMMANDS: { readonly [C in Command]: CommandRow<C> } = {
  status: {
    readOnly: true,
    usage: ['status', 'BGP peers of the running agent, by family'],
    ...noArgs,
    clientTimeoutMs: plainTimeout,
    serve: (h) => h.status(),
    render: (answer, _args, o) => ({ text: renderStatus(answer, o) }),
    succeeded: always,
    // SPEC.md: `status` says so on stdout (exit 3 all the same).
    unreachable: (output, _o, code) => (code !== 'NOT_RUNNING'
      ? { stdout: '', error: true }
      : { stdout: output === 'json' ? `${JSON.stringify({ running: false })}\n` : `${NOT_RUNNING}\n`, error: false }),
  },
  peers: {
    readOnly: true,
    usage: ['peers [ADDRESS]', 'peers with prefix counts; one peer in detail'],
    positional: true,
    fromCli: ({ positional }) => {
      if (positional === undefined) return {};
      return looksLikePeerAddress(positional) ? { address: positional } : `'${positional}' is not a peer address (IP or IP:PORT)`;
    },
    fromWire: (args) => {
      const bad = only(args, ['address']);
      if (bad !== null) return bad;
      if (args.address === undefined) return {};
      if (typeof args.address !== 'string' || args.address.length === 0 || args.address.length > MAX_ADDRESS_LENGTH) {
        return `'address' must be a peer address of at most ${MAX_ADDRESS_LENGTH} characters`;
      }
      return { address: args.address };
    },
    toWire: (args) => (args.address === undefined ? {} : { address: args.address }),
    clientTimeoutMs: plainTimeout,
    serve: (h, args) => {
      const peers = h.peers(args.address);
      if (args.address !== undefined && peers.length === 0) throw new ControlError('NOT_FOUND', `no peer ${args.address}`);
      return peers;
    },
    render: (answer, args, o) => ({ text: args.address === undefined ? renderPeers(answer, o) : renderPeerDetail(answer, o) }),
    succeeded: always,
  },
  routes: {
    readOnly: true,
    usage: ['routes [--family ipv4|ipv6] [--detail]', 'the routes the agent puts in the kernel; --detail: each',
      "route's AS path, communities, LOCAL_PREF, MED and peers (-o json: always)"],
    options: [{ flag: '--family', name: 'family' }, { flag: '--detail', name: 'detail', flagOnly: true }],
    fromCli: ({ values }) => {
      const family = values.get('family');
      const detail = values.get('detail') === 'true' ? { detail: true } : {};
      if (family === undefined) return detail;
      return family === 'ipv4' || family === 'ipv6' ? { family, ...detail } : `--family must be 'ipv4' or 'ipv6', not '${family}'`;
    },
    fromWire: (args) => {
      const bad = only(args, ['family', 'detail']);
      if (bad !== null) return bad;
      if (args.detail !== undefined && typeof args.detail !== 'boolean') return "'detail' must be true or false";
      const detail = args.detail === true ? { detail: true } : {};
      if (args.family === undefined) return detail;
      if (args.family !== 'ipv4' && args.family !== 'ipv6') return "'family' must be 'ipv4' or 'ipv6'";
      return { family: args.family, ...detail };
    },
    toWire: (args) => ({ ...(args.family === undefined ? {} : { family: args.family }), ...(args.detail === true ? { detail: true } : {}) }),
    clientTimeoutMs: plainTimeout,
    // The answer always carries the detail (-o json prints it); the table shows it on --detail.
    serve: (h, args) => h.routes(args.family),
    render: (answer, args) => ({ text: args.detail === true ? renderRouteDetail(answer) : renderRoutes(answer) }),
    succeeded: always,
  },
  wait: {
    readOnly: true,
    usage: ['wait [--timeout SECONDS]', 'until every peer is Established and the kernel matches',
      `(default ${DEFAULT_WAIT_SECONDS} s; exit 0 converged, 1 timed out)`],
    options: [{ flag: '--timeout', name: 'timeout' }],
    fromCli: ({ values }) => {
      const text = values.get('timeout');
      if (text === undefined) return { timeoutSeconds: DEFAULT_WAIT_SECONDS };
      const seconds = Number(text);
      if (!secondsText(text) || seconds > MAX_WAIT_SECONDS) return `--timeout must be a number of seconds from 0 to ${MAX_WAIT_SECONDS}, not '${text}'`;
      return { timeoutSeconds: seconds };
    },
    fromWire: (args) => {
      const bad = only(args, ['timeout']);
      if (bad !== null) return bad;
      const timeout = args.timeout ?? 0;
      if (typeof timeout !== 'number' || !Number.isFinite(timeout) || timeout < 0 || timeout > MAX_WAIT_SECONDS) {
        return `'timeout' must be a number of seconds from 0 to ${MAX_WAIT_SECONDS}`;
      }
      return { timeoutSeconds: timeout };
    },
    toWire: (args) => ({ timeout: args.timeoutSeconds }),
    clientTimeoutMs: (args) => args.timeoutSeconds * 1000 + REQUEST_TIMEOUT_MS,
    retry: { seconds: (args) => args.timeoutSeconds, rest: (_args, left) => ({ timeoutSeconds: left }) },
    serve: (h, args, ctx) => waitConverged(() => h.converged(), args.timeoutSeconds, ctx.waitPollMs, ctx.signal, ctx.clock),
    render: (answer) => ({ text: renderWait(answer) }),
    succeeded: (answer) => answer.converged === true,
  },
  reload: {
    readOnly: false,
    usage: ['reload', 're-read the config file (root only)'],
    ...noArgs,
    clientTimeoutMs: plainTimeout,
    serve: (h) => h.reload(),
    render: (answer) => ({ text: renderReload(answer), stderr: !answer.applied }),
    succeeded: (answer) => answer.applied === true,
  },
  // Read-only: the daemon probes with its own CAP_NET_RAW; the caller only reads the answer.
  check: {
    readOnly: true,
    usage: ['check [--timeout SECONDS]', 'the data plane: sessions, kernel routes, forwarding, the',
      'tunnel, and every next hop probed by ICMP echo (64 bytes and',
      'the full path size with DF set); default timeout: check.timeout',
      '(exit 0 no check failed, 1 one did; warnings alone exit 0)'],
    options: [{ flag: '--timeout', name: 'timeout' }],
    fromCli: ({ values }) => {
      const text = values.get('timeout');
      if (text === undefined) return {};
      const seconds = Number(text);
      if (!secondsText(text) || !validCheckTimeout(seconds)) {
        return `--timeout must be a number of seconds above 0 and at most ${MAX_CHECK_TIMEOUT}, not '${text}'`;
      }
      return { timeoutSeconds: seconds };
    },
    fromWire: (args) => {
      const bad = only(args, ['timeout']);
      if (bad !== null) return bad;
      if (args.timeout === undefined) return {};
      if (!validCheckTimeout(args.timeout)) return `'timeout' must be a number of seconds above 0 and at most ${MAX_CHECK_TIMEOUT}`;
      return { timeoutSeconds: args.timeout };
    },
    toWire: (args) => (args.timeoutSeconds === undefined ? {} : { timeout: args.timeoutSeconds }),
    // The daemon ends its probes at the timeout (its config's when none is given: at most the maximum).
    clientTimeoutMs: (args) => (args.timeoutSeconds ?? MAX_CHECK_TIMEOUT) * 1000 + REQUEST_TIMEOUT_MS,
    serve: (h, args) => h.check(args.timeoutSeconds),
    render: (answer, _args, o) => ({ text: renderCheck(answer, { colour: o.colour }) }),
    succeeded: (answer) => answer.ok === true,
  },
  drain: {
    readOnly: false,
    usage: ['drain', 'RFC 8326 graceful shutdown: what the node announces gets', '65535:0 and is made least preferred (root only)'],
    ...noArgs,
    clientTimeoutMs: plainTimeout,
    serve: (h) => h.drain(true),
    render: (answer) => ({ text: renderDrain(answer) }),
    succeeded: always,
  },
  undrain: {
    readOnly: false,
    usage: ['undrain', 'ends the drain: announcements as before (root only)'],
    ...noArgs,
    clientTimeoutMs: plainTimeout,
    serve: (h) => h.drain(false),
    render: (answer) => ({ text: renderDrain(answer) }),
    succeeded: always,
  },
  version: {
    readOnly: true,
    usage: ['version', "agentctl's and the agent's versions"],
    ...noArgs,
    clientTimeoutMs: plainTimeout,
    serve: (h) => h.version(),
    render: (answer, _args, o) => ({ text: renderVersion(o.clientVersion, answer) }),
    succeeded: always,
    unreachable: (output, o) => ({ stdout: output === 'table' ? `agentctl ${o.clientVersion}\n` : '', error: true }),
  },
  services: {
    readOnly: true,
    usage: ['services', 'anycast services: state (up, down, drained), since, last check'],
    ...noArgs,
    clientTimeoutMs: plainTimeout,
    serve: (h) => h.services(),
    render: (answer, _args, o) => ({ text: renderServices(answer, o) }),
    succeeded: always,
  },
};

export const COMMAND_NAMES = Object.keys(COMMANDS) as Command[];

export function isCommand(name: string): name is Command {
  return Object.prototype.hasOwnProperty.call(COMMANDS, name);
}

/** The row of one command, typed by it (the table's rows differ in their types). */
export function commandRow<C extends Command>(cmd: C): CommandRow<C> {
  return COMMANDS[cmd] as unknown as CommandRow<C>;
}
