/**
 * The control protocol's pure half (STYLE.md "Control and CLI"): cutting a byte stream into
 * bounded NDJSON lines, validating one request line into a typed ParsedRequest, and encoding
 * answers. What each command accepts is its row in commands.ts.
 * Not here: sockets, permissions, calling handlers (server.ts), rendering (render.ts).
 */

import type { ArgsOf, Command, ControlErrorBody, ControlResponse } from './api.js';
import { COMMANDS, COMMAND_NAMES, commandRow, isCommand } from './commands.js';

/** Default bound of one request line, newline excluded. */
export const MAX_REQUEST_BYTES = 64 * 1024;
const MAX_ID_LENGTH = 128;

export type RequestId = number | string;

/** A valid request: its id, its command and that command's arguments. */
export type ParsedRequest = { readonly [C in Command]: { readonly id: RequestId; readonly cmd: C } & ArgsOf<C> }[Command];

export type ParseResult =
  | { readonly ok: true; readonly request: ParsedRequest }
  | { readonly ok: false; readonly id: RequestId | null; readonly error: ControlErrorBody };

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
      error: { code: 'UNKNOWN_COMMAND', message: `unknown command '${value.cmd.slice(0, 40)}'; known: ${COMMAND_NAMES.join(', ')}` },
    };
  }
  const args = value.args ?? {};
  if (!isPlainObject(args)) return bad(id, "'args' must be a JSON object");
  const fields = commandRow(value.cmd).fromWire(args);
  if (typeof fields === 'string') return bad(id, `${value.cmd}: ${fields}`);
  return { ok: true, request: { id, cmd: value.cmd, ...fields } as ParsedRequest };
}

export function isReadOnly(cmd: Command): boolean {
  return COMMANDS[cmd].readOnly;
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
