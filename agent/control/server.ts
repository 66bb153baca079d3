/**
 * ControlServer: the agent's control socket (STYLE.md "Control and CLI", OpenBGPD control.c).
 * A Unix stream socket, mode 0660 and the config's group; NDJSON requests `{id, cmd, args}`
 * answered in order per connection by `{id, ok, data | error}` from the ControlHandlers that
 * agent/main.ts supplies. Read-only commands are open to the group; `reload` needs root (the
 * kernel's SO_PEERCRED says who connected). Every bound is enforced per connection: request
 * line size, write backlog (a client that never reads is dropped), idle time, and the number
 * of clients. `wait` is answered by the server once converged() holds or its timeout passes.
 * Not here: the protocol's validation (protocol.ts) or the socket file's set-up (socket-file.ts).
 */

import { lstat, unlink } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';

import { type Clock, systemClock } from '../contracts/clock.js';
import type { Log } from '../contracts/log.js';
import { peerCredentials as kernelPeerCredentials, type PeerCredentials } from './peer-credentials.js';
import type { ControlHandlers, ControlResponse } from './api.js';
import { commandRow } from './commands.js';
import { ControlError } from './errors.js';
import {
  EMPTY_LINE_STATE, encodeResponse, errorResponse, isReadOnly, type LineState, MAX_REQUEST_BYTES,
  okResponse, type ParsedRequest, parseRequest, splitLines,
} from './protocol.js';
import { BIND_UMASK, claimSocketPath, resolveGroup, secureSocket } from './socket-file.js';

/** After TOO_LARGE: bytes read and dropped, and how long, before the connection is cut. */
const DRAIN_AFTER_TOO_LARGE = 1024 * 1024;
const DRAIN_GRACE_MS = 2000;

export interface ControlServerOptions {
  readonly path: string;
  /** Group that may use the read-only commands; '' keeps the agent's own group (root's). */
  readonly group: string;
  readonly log: Log;
  /** Longest request line in bytes (default 64 KiB); longer gets TOO_LARGE and the connection closed. */
  readonly maxRequestBytes?: number;
  /** Unread answers, in bytes, past which a client gets no more and is dropped (default 1 MiB). */
  readonly maxBacklogBytes?: number;
  /** Clients at once (default 256); one more is answered BUSY and closed. */
  readonly maxClients?: number;
  /** A connection with nothing to answer is closed after this long (default 60 s). */
  readonly idleTimeoutMs?: number;
  /** How often `wait` asks converged() (default 200 ms). */
  readonly waitPollMs?: number;
  /** Who connected; the kernel's SO_PEERCRED by default. Tests may substitute. */
  readonly peerCredentials?: (socket: Socket) => PeerCredentials | null;
  /** `wait`'s polls, the drain after TOO_LARGE, the probe of a live socket file; systemClock by default. */
  readonly clock?: Clock;
}

interface Connection {
  readonly socket: Socket;
  readonly id: number;
  lines: LineState;
  readonly queue: string[];
  pumping: boolean;
  badRequests: number;
  /** Aborted when the connection closes: ends a pending wait. */
  readonly ended: AbortController;
}

export class ControlServer {
  private readonly handlers: ControlHandlers;
  private readonly opts: Required<Omit<ControlServerOptions, 'log'>>;
  private readonly log: Log;
  private readonly connections = new Set<Connection>();
  private pendingWaits = 0;
  private server: Server | null = null;
  private socketIno: number | null = null;
  private nextConnection = 1;
  private closing = false;

  constructor(handlers: ControlHandlers, options: ControlServerOptions) {
    this.handlers = handlers;
    this.log = options.log.child({ component: 'control' });
    this.opts = {
      path: options.path,
      group: options.group,
      maxRequestBytes: options.maxRequestBytes ?? MAX_REQUEST_BYTES,
      maxBacklogBytes: options.maxBacklogBytes ?? 1024 * 1024,
      maxClients: options.maxClients ?? 256,
      idleTimeoutMs: options.idleTimeoutMs ?? 60_000,
      waitPollMs: options.waitPollMs ?? 200,
      peerCredentials: options.peerCredentials ?? kernelPeerCredentials,
      clock: options.clock ?? systemClock,
    };
  }

  get path(): string {
    return this.opts.path;
  }

  get clients(): number {
    return this.connections.size;
  }

  /** `wait` requests being held. */
  get waiting(): number {
    return this.pendingWaits;
  }

  /** Binds the socket; throws ControlError (ALREADY_RUNNING, NOT_A_SOCKET, GROUP_NOT_FOUND, SOCKET_SETUP). */
  async start(): Promise<void> {
    if (this.server !== null || this.closing) throw new ControlError('SOCKET_SETUP', 'control server already started');
    const gid = this.opts.group === '' ? process.getgid?.() ?? 0 : await resolveGroup(this.opts.group);
    await claimSocketPath(this.opts.path, undefined, this.opts.clock);
    const server = createServer({ allowHalfOpen: false, pauseOnConnect: false }, (socket) => this.accept(socket));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      const fail = (err: NodeJS.ErrnoException): void => {
        reject(err.code === 'EADDRINUSE'
          ? new ControlError('ALREADY_RUNNING', `${this.opts.path} was taken while starting: is rack-agent already running?`)
          : new ControlError('SOCKET_SETUP', `cannot listen on ${this.opts.path}: ${err.code ?? err.message}`, { cause: err }));
      };
      server.once('error', fail);
      // bind(2) happens inside listen(): the socket file is born 0660, never open to others.
      const umask = process.umask(BIND_UMASK);
      try {
        server.listen({ path: this.opts.path, backlog: 128 }, () => {
          server.off('error', fail);
          resolve();
        });
      } finally {
        process.umask(umask);
      }
    }).catch((err: unknown) => {
      this.server = null;
      server.close();
      throw err;
    });
    server.on('error', (err) => this.log.error('control socket error', { err }));
    try {
      await secureSocket(this.opts.path, gid);
      this.socketIno = (await lstat(this.opts.path)).ino;
    } catch (err) {
      await this.close();
      throw err;
    }
    this.log.info('control socket listening', { path: this.opts.path, gid });
  }

  /** Stops listening, drops every client, ends pending waits, and removes the socket file. */
  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    for (const conn of this.connections) {
      conn.ended.abort();
      conn.socket.destroy();
    }
    const server = this.server;
    this.server = null;
    if (server !== null) await new Promise<void>((resolve) => server.close(() => resolve()));
    if (this.socketIno !== null) {
      try {
        // Only our own socket: another agent may have replaced a file we lost.
        if ((await lstat(this.opts.path)).ino === this.socketIno) await unlink(this.opts.path);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') this.log.warn('could not remove the control socket', { err });
      }
    }
  }

  private accept(socket: Socket): void {
    if (this.closing) {
      socket.destroy();
      return;
    }
    socket.on('error', (err) => this.log.debug('control client error', { err: (err as NodeJS.ErrnoException).code ?? err.message }));
    if (this.connections.size >= this.opts.maxClients) {
      this.log.warn('control client refused: too many clients', { clients: this.connections.size });
      socket.end(encodeResponse(errorResponse(null, { code: 'BUSY', message: `too many control clients (${this.opts.maxClients}); try again` })));
      socket.resume();
      return;
    }
    const conn: Connection = {
      socket, id: this.nextConnection++, lines: EMPTY_LINE_STATE, queue: [], pumping: false, badRequests: 0, ended: new AbortController(),
    };
    this.connections.add(conn);
    socket.setTimeout(this.opts.idleTimeoutMs, () => {
      if (!conn.pumping) socket.destroy();
    });
    socket.on('close', () => {
      conn.ended.abort();
      this.connections.delete(conn);
    });
    socket.on('data', (chunk: Buffer) => this.receive(conn, chunk));
  }

  private receive(conn: Connection, chunk: Buffer): void {
    const split = splitLines(conn.lines, chunk, this.opts.maxRequestBytes);
    conn.lines = split.state;
    conn.queue.push(...split.lines);
    if (split.tooLarge) {
      // Answer what came before, then TOO_LARGE, then close. The rest of the line is never
      // kept: a little more is read and dropped, so a client still writing sees the answer
      // before the connection goes.
      const socket = conn.socket;
      socket.removeAllListeners('data');
      let dropped = 0;
      socket.on('data', (more: Buffer) => {
        dropped += more.length;
        if (dropped > DRAIN_AFTER_TOO_LARGE && !socket.destroyed) {
          this.log.info('oversized request cut off', { client: conn.id, droppedBytes: dropped });
          socket.destroy();
        }
      });
      conn.queue.push('');
      this.log.warn('control request too large, closing the connection', { limit: this.opts.maxRequestBytes, client: conn.id });
    }
    void this.pump(conn);
  }

  /** Answers queued lines one at a time, in order; reading pauses while answers are pending. */
  private async pump(conn: Connection): Promise<void> {
    if (conn.pumping) return;
    conn.pumping = true;
    conn.socket.pause();
    try {
      while (conn.queue.length > 0 && !conn.socket.destroyed) {
        const line = conn.queue.shift() as string;
        if (line === '') {
          this.send(conn, errorResponse(null, { code: 'TOO_LARGE', message: `request longer than ${this.opts.maxRequestBytes} bytes` }));
          const socket = conn.socket;
          socket.end();
          this.opts.clock.setTimeout(() => socket.destroy(), DRAIN_GRACE_MS);
          socket.resume();
          return;
        }
        this.send(conn, await this.answer(conn, line));
      }
    } finally {
      conn.pumping = false;
    }
    if (!conn.socket.destroyed) conn.socket.resume();
  }

  /**
   * Writes one answer. A client whose earlier answers still exceed the backlog bound is not
   * reading: it is dropped instead. One large answer alone (routes) is always written.
   */
  private send(conn: Connection, response: ControlResponse): void {
    const socket = conn.socket;
    if (socket.destroyed || socket.writableEnded) return;
    if (socket.writableLength > this.opts.maxBacklogBytes) {
      this.log.warn('control client does not read its answers, dropping it', { backlog: socket.writableLength, client: conn.id });
      socket.destroy();
      return;
    }
    socket.write(encodeResponse(response));
  }

  /** One request line to one answer; never throws. */
  private async answer(conn: Connection, line: string): Promise<ControlResponse> {
    const parsed = parseRequest(line);
    if (!parsed.ok) {
      conn.badRequests += 1;
      // One warning per client, not one per line: a flood of garbage must not flood the log.
      if (conn.badRequests === 1) this.log.warn('bad control request', { client: conn.id, error: parsed.error.message });
      return errorResponse(parsed.id, parsed.error);
    }
    const request = parsed.request;
    if (!isReadOnly(request.cmd)) {
      const who = this.opts.peerCredentials(conn.socket);
      if (who === null || (who.uid !== 0 && who.uid !== process.getuid?.())) {
        this.log.warn('control command refused', { cmd: request.cmd, uid: who?.uid ?? null, pid: who?.pid ?? null });
        return errorResponse(request.id, {
          code: 'NOT_PERMITTED',
          message: who === null ? `${request.cmd}: cannot tell who is asking, so refused` : `${request.cmd} needs root`,
        });
      }
    }
    try {
      return okResponse(request.id, await this.dispatch(conn, request));
    } catch (err) {
      if (err instanceof ControlError) return errorResponse(request.id, { code: err.code, message: err.message });
      this.log.error('control handler failed', { cmd: request.cmd, err });
      const name = err instanceof Error ? err.name : typeof err;
      return errorResponse(request.id, {
        code: 'INTERNAL',
        message: `${request.cmd} failed (${name}); the agent's log has the details`,
      });
    }
  }

  private async dispatch(conn: Connection, request: ParsedRequest): Promise<unknown> {
    const row = commandRow(request.cmd);
    const ctx = { signal: conn.ended.signal, waitPollMs: this.opts.waitPollMs, clock: this.opts.clock };
    if (request.cmd !== 'wait') return row.serve(this.handlers, request as never, ctx);
    this.pendingWaits += 1;
    try {
      return await row.serve(this.handlers, request as never, ctx);
    } finally {
      this.pendingWaits -= 1;
    }
  }
}
