/**
 * ControlError: the control socket's one error type (STYLE.md "Errors"), with a stable string
 * `code`. Thrown by ControlServer.start() (ALREADY_RUNNING, NOT_A_SOCKET, GROUP_NOT_FOUND, ...)
 * and, by a handler, to answer a request with a chosen error instead of INTERNAL (NOT_FOUND,
 * RELOAD_REFUSED). What a client sees is `{code, message}`; never a stack.
 */

import { CodedError } from '../contracts/coded-error.js';

export type ControlErrorCode =
  // answers to a request (api.ts ControlErrorBody)
  | 'BAD_REQUEST'
  | 'UNKNOWN_COMMAND'
  | 'TOO_LARGE'
  | 'NOT_PERMITTED'
  | 'NOT_FOUND'
  | 'RELOAD_REFUSED'
  | 'SHUTTING_DOWN'
  | 'BUSY'
  | 'INTERNAL'
  // starting the server
  | 'ALREADY_RUNNING'
  | 'NOT_A_SOCKET'
  | 'GROUP_NOT_FOUND'
  | 'SOCKET_SETUP';

export class ControlError extends CodedError<ControlErrorCode> {}
