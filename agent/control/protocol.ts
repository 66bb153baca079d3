/**
 * The control protocol's pure half (STYLE.md "Control and CLI"): cutting a byte stream into
 * bounded NDJSON lines, validating one request line into a typed ParsedRequest, and encoding
 * answers. One table row per command: whether it only reads, and how its args are checked.
 * Not here: sockets, permissions, calling handlers (server.ts), rendering (render.ts).
 */

import { isIP } from 'node:net';

import { MAX_CHECK_TIMEOUT } from '../../config/formats.js';
import type { Command, ControlErrorBody, ControlResponse } from './api.js';

/** Default bound of one request line, newline excluded. */
export const MAX_REQUEST_BYTES = 64 * 1024;
/** `wait` never holds a connection longer than this, whatever the client asks. */
export const MAX_WAIT_SECONDS = 24 * 3600;
const MAX_ID_LENGTH = 128;
const MAX_ADDRESS_LENGTH = 64;

export type ParsedRequest =
  | { readonly id: RequestId; readonly cmd: 'status' | 'reload' | 'version' }
  | { readonly id: RequestId; readonly cmd: 'peers'; readonly address?: string }
  | { readonly id: RequestId; readonly cmd: 'routes'; readonly family?: 'ipv4' | 'ipv6' }
  | { readonly id: RequestId; readonly cmd: 'wait'; readonly timeoutSeconds: number }
  | { readonly id: RequestId; readonly cmd: 'check'; readonly timeoutSeconds?: number };

export type RequestId = number | string;

export type ParseResult =
  | { readonly ok: true; readonly request: ParsedRequest }
  | { readonly ok: false; readonly id: RequestId | null; readonly error: ControlErrorBody };

type Args = Readonly<Record<string, unknown>>;
type ArgsResult = Readonly<Record<string, unknown>> | string;

interface CommandRow {
  /** Read-only commands are open to the socket's group; the others need root. */
  readonly readOnly: boolean;
  /** The command's own fields, or a message naming the bad argument. */
  readonly args: (args: Args) => ArgsResult;
}

const noArgs = (args: Args): ArgsResult => {
  const extra = Object.keys(args);
  return extra.length === 0 ? {} : `unexpected argument '${extra[0]}'`;
};

function only(args: Args, allowed: readonly string[]): string | null {
  const extra = Object.keys(args).find((key) => !allowed.includes(key));
  return extra === undefined ? null : `unexpected argument '${extra}'`;
}

export const COMMANDS: Readonly<Record<Command, CommandRow>> = {
  status: { readOnly: true, args: noArgs },
  version: { readOnly: true, args: noArgs },
  reload: { readOnly: false, args: noArgs },
  peers: {
    readOnly: true,
    args: (args) => {
      const bad = only(args, ['address']);
      if (bad !== null) return bad;
      if (args.address === undefined) return {};
      if (typeof args.address !== 'string' || args.address.length === 0 || args.address.length > MAX_ADDRESS_LENGTH) {
        return `'address' must be a peer address of at most ${MAX_ADDRESS_LENGTH} characters`;
      }
      return { address: args.address };
    },
  },
  routes: {
    readOnly: true,
    args: (args) => {
      const bad = only(args, ['family']);
      if (bad !== null) return bad;
      if (args.family === undefined) return {};
      if (args.family !== 'ipv4' && args.family !== 'ipv6') return "'family' must be 'ipv4' or 'ipv6'";
      return { family: args.family };
    },
  },
  wait: {
    readOnly: true,
    args: (args) => {
      const bad = only(args, ['timeout']);
      if (bad !== null) return bad;
      const timeout = args.timeout ?? 0;
      if (typeof timeout !== 'number' || !Number.isFinite(timeout) || timeout < 0 || timeout > MAX_WAIT_SECONDS) {
        return `'timeout' must be a number of seconds from 0 to ${MAX_WAIT_SECONDS}`;
      }
      return { timeoutSeconds: timeout };
    },
  },
  // Read-only: the daemon probes with its own CAP_NET_RAW; the caller only reads the answer.
  check: {
    readOnly: true,
    args: (args) => {
      const bad = only(args, ['timeout']);
      if (bad !== null) return bad;
      if (args.timeout === undefined) return {};
      if (!validCheckTimeout(args.timeout)) return `'timeout' must be a number of seconds above 0 and at most ${MAX_CHECK_TIMEOUT}`;
      return { timeoutSeconds: args.timeout };
    },
  },
};

/** A check's probe timeout: above 0, at most MAX_CHECK_TIMEOUT seconds. */
export function validCheckTimeout(seconds: unknown): seconds is number {
  return typeof seconds === 'number' && Number.isFinite(seconds) && seconds > 0 && seconds <= MAX_CHECK_TIMEOUT;
}

export function isCommand(name: string): name is Command {
  return Object.prototype.hasOwnProperty.call(COMMANDS, name);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function validId(id: unknown): id is RequestId {
  return (typeof id === 'number' && Number.isFinite(id))
    || (typeof id === 'string' && id.length > 0 && id.length <= MAX_ID_LENGTH);
}

const bad = (id: RequestId | null, message: string): ParseResult =>
  ({ ok: false, id, error: { code: 'BAD_REQUEST', message } });

/** Validates one request line (without its newline). Never throws. */
export function parseRequest(line: string): ParseResult {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return bad(null, 'not JSON: each request is one JSON object per line');
  }
  if (!isPlainObject(value)) return bad(null, 'a request must be a JSON object {id, cmd, args}');
  if (!validId(value.id)) {
    return bad(null, `'id' must be a finite number or a string of 1 to ${MAX_ID_LENGTH} characters`);
  }
  const id = value.id;
  const extra = Object.keys(value).find((key) => key !== 'id' && key !== 'cmd' && key !== 'args');
  if (extra !== undefined) return bad(id, `unexpected field '${extra}'`);
  if (typeof value.cmd !== 'string') return bad(id, "'cmd' must be a string");
  if (!isCommand(value.cmd)) {
    return {
      ok: false,
      id,
      error: { code: 'UNKNOWN_COMMAND', message: `unknown command '${value.cmd.slice(0, 40)}'; known: ${Object.keys(COMMANDS).join(', ')}` },
    };
  }
  const args = value.args ?? {};
  if (!isPlainObject(args)) return bad(id, "'args' must be a JSON object");
  const fields = COMMANDS[value.cmd].args(args);
  if (typeof fields === 'string') return bad(id, `${value.cmd}: ${fields}`);
  return { ok: true, request: { id, cmd: value.cmd, ...fields } as ParsedRequest };
}

export function isReadOnly(cmd: Command): boolean {
  return COMMANDS[cmd].readOnly;
}

/** Checks a peer address the way the CLI and server agree on: an IP, optionally `ip:port`. */
export function looksLikePeerAddress(text: string): boolean {
  if (isIP(text) !== 0) return true;
  const v6 = /^\[([^\]]+)\]:(\d{1,5})$/.exec(text);
  if (v6 !== null) return isIP(v6[1]) === 6 && Number(v6[2]) <= 65535;
  const v4 = /^([^:]+):(\d{1,5})$/.exec(text);
  return v4 !== null && isIP(v4[1]) === 4 && Number(v4[2]) <= 65535;
}

export function encodeResponse(response: ControlResponse): string {
  return `${JSON.stringify(response)}\n`;
}

export function okResponse(id: RequestId | null, data: unknown): ControlResponse {
  return { id, ok: true, data };
}

export function errorResponse(id: RequestId | null, error: ControlErrorBody): ControlResponse {
  return { id, ok: false, error: { code: error.code, message: error.message } };
}

/** Bytes of an unfinished line carried between chunks. */
export interface LineState {
  readonly parts: readonly Buffer[];
  readonly length: number;
}

export const EMPTY_LINE_STATE: LineState = { parts: [], length: 0 };

export interface SplitResult {
  /** Complete lines, newline (and a trailing CR) removed; empty lines dropped. */
  readonly lines: readonly string[];
  readonly state: LineState;
  /** A line exceeded `max` bytes: the caller answers TOO_LARGE and stops reading. */
  readonly tooLarge: boolean;
}

/**
 * Cuts `chunk` into lines, carrying the unfinished tail in `state`. Holds at most `max` bytes of
 * an unfinished line: past that it reports tooLarge at once, without keeping the rest.
 */
export function splitLines(state: LineState, chunk: Buffer, max: number): SplitResult {
  const lines: string[] = [];
  let parts = state.parts;
  let length = state.length;
  let start = 0;
  for (;;) {
    const nl = chunk.indexOf(0x0a, start);
    if (nl === -1) break;
    if (length + (nl - start) > max) return { lines, state: EMPTY_LINE_STATE, tooLarge: true };
    const piece = chunk.subarray(start, nl);
    const whole = parts.length === 0 ? piece : Buffer.concat([...parts, piece]);
    const text = whole.toString('utf8').replace(/\r$/, '');
    if (text.trim().length > 0) lines.push(text);
    parts = [];
    length = 0;
    start = nl + 1;
  }
  const tail = chunk.length - start;
  if (length + tail > max) return { lines, state: EMPTY_LINE_STATE, tooLarge: true };
  if (tail > 0) {
    // Copy: the caller's chunk may be reused, and a small tail must not pin a large chunk.
    parts = [...parts, Buffer.from(chunk.subarray(start))];
    length += tail;
  }
  return { lines, state: { parts, length }, tooLarge: false };
}
