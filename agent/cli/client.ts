/**
 * The client half of the control protocol, for agentctl and tests: one connection, one request,
 * the first answer line. Failures to reach the daemon are a ClientError with a stable code, so
 * agentctl can map them to exit status 3. Not here: argument parsing or rendering.
 */

import { connect } from 'node:net';

import { CodedError } from '../contracts/coded-error.js';
import type { Command, ControlResponse } from '../control/api.js';

export type ClientErrorCode = 'NOT_RUNNING' | 'PERMISSION_DENIED' | 'TIMEOUT' | 'CONNECTION_LOST' | 'PROTOCOL';

export class ClientError extends CodedError<ClientErrorCode> {}

export interface RequestOptions {
  /** Give up (TIMEOUT) when no answer comes within this long. */
  readonly timeoutMs: number;
}

function connectError(path: string, err: NodeJS.ErrnoException): ClientError {
  switch (err.code) {
    case 'ENOENT':
    case 'ECONNREFUSED':
    case 'ENOTSOCK':
      return new ClientError('NOT_RUNNING', `nothing answers on ${path} (${err.code})`, { cause: err });
    case 'EACCES':
    case 'EPERM':
      return new ClientError('PERMISSION_DENIED', `permission denied on ${path}: only root and members of the socket's group may connect`, { cause: err });
    default:
      return new ClientError('CONNECTION_LOST', `cannot talk to the agent on ${path}: ${err.code ?? err.message}`, { cause: err });
  }
}

/** Sends `{id: 1, cmd, args}` and resolves with the answer; rejects with ClientError. */
export function request(path: string, cmd: Command, args: Readonly<Record<string, unknown>>, options: RequestOptions):
Promise<ControlResponse> {
  return new Promise((resolve, reject) => {
    const socket = connect({ path });
    const chunks: Buffer[] = [];
    let connected = false;
    let done = false;
    const finish = (outcome: () => void): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      outcome();
    };
    // Node's own timer, not agent/contracts/clock.ts: agentctl is a short-lived program, not an
    // engine of the daemon (agentctl.ts); tests bound it with a small timeoutMs.
    const timer = setTimeout(() => finish(() => reject(new ClientError('TIMEOUT', `the agent did not answer on ${path} within ${Math.round(options.timeoutMs / 1000)} s`))), options.timeoutMs);
    socket.once('connect', () => {
      connected = true;
      socket.write(`${JSON.stringify({ id: 1, cmd, args })}\n`);
    });
    socket.on('data', (chunk: Buffer) => {
      const nl = chunk.indexOf(0x0a);
      if (nl === -1) {
        chunks.push(chunk);
        return;
      }
      chunks.push(chunk.subarray(0, nl));
      const line = Buffer.concat(chunks).toString('utf8');
      finish(() => {
        try {
          const answer = JSON.parse(line) as ControlResponse;
          if (typeof answer !== 'object' || answer === null || typeof answer.ok !== 'boolean') throw new Error('not an answer');
          resolve(answer);
        } catch (err) {
          reject(new ClientError('PROTOCOL', `the agent's answer on ${path} is not a control answer`, { cause: err }));
        }
      });
    });
    socket.on('error', (err: NodeJS.ErrnoException) => {
      finish(() => reject(connected
        ? new ClientError('CONNECTION_LOST', `the connection to ${path} broke before an answer: ${err.code ?? err.message}`, { cause: err })
        : connectError(path, err)));
    });
    socket.on('end', () => finish(() => reject(new ClientError('CONNECTION_LOST', `the agent closed ${path} before answering`))));
  });
}
