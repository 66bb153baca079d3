/**
 * A scriptable raw TCP peer for the session tests, run as a child inside a lab namespace. It knows
 * nothing of BGP beyond cutting the byte stream at the header's length field: the test builds
 * every message (good or deliberately broken) and reads what the agent sends back.
 *
 * stdin, one JSON command per line:
 *   {"cmd":"listen","port"}            -> {"ev":"listening","port"}; then {"ev":"accepted","conn","remote"}
 *   {"cmd":"connect","host","port"}    -> {"ev":"connected","conn"} or {"ev":"error","code"}
 *   {"cmd":"send","conn","hex"}        writes the bytes as given
 *   {"cmd":"close","conn"}             ends the connection
 *   {"cmd":"pause","conn"}             stops reading: the kernel's receive buffer fills, the window closes
 *   {"cmd":"keepalives","conn","ms"}   sends a KEEPALIVE every `ms` (0: stop), reading or not
 *   {"cmd":"destroy","conn"}           closes at once (a RST when unread data is left)
 * stdout: {"ev":"message","conn","type","hex"} per message received, {"ev":"closed","conn"}.
 */

import * as net from 'node:net';
import { createInterface } from 'node:readline';

const conns = new Map<number, net.Socket>();
const keepalives = new Map<number, NodeJS.Timeout>();
const KEEPALIVE = Buffer.from(`${'ff'.repeat(16)}001304`, 'hex');
let nextId = 1;

function out(obj: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(obj)}\n`);
}

function adopt(socket: net.Socket): number {
  const conn = nextId++;
  conns.set(conn, socket);
  let buf = Buffer.alloc(0);
  socket.on('data', (chunk: Buffer) => {
    buf = Buffer.concat([buf, chunk]);
    while (buf.length >= 19) {
      const len = buf.readUInt16BE(16);
      if (len < 19 || buf.length < len) break;
      out({ ev: 'message', conn, type: buf[18], hex: buf.subarray(0, len).toString('hex') });
      buf = buf.subarray(len);
    }
  });
  socket.on('error', (err: NodeJS.ErrnoException) => out({ ev: 'error', conn, code: err.code ?? err.message }));
  socket.on('close', () => {
    conns.delete(conn);
    clearInterval(keepalives.get(conn));
    out({ ev: 'closed', conn });
  });
  return conn;
}

function command(line: string): void {
  const c = JSON.parse(line) as { cmd: string; port?: number; host?: string; conn?: number; hex?: string; ms?: number };
  switch (c.cmd) {
    case 'listen': {
      const server = net.createServer((socket) => out({ ev: 'accepted', conn: adopt(socket), remote: socket.remoteAddress }));
      server.listen(c.port ?? 0, () => out({ ev: 'listening', port: (server.address() as net.AddressInfo).port }));
      return;
    }
    case 'connect': {
      const socket = net.connect({ host: c.host ?? '', port: c.port ?? 179 });
      socket.once('connect', () => out({ ev: 'connected', conn: adopt(socket) }));
      socket.once('error', (err: NodeJS.ErrnoException) => out({ ev: 'error', code: err.code ?? err.message }));
      return;
    }
    case 'send':
      conns.get(c.conn ?? 0)?.write(Buffer.from(c.hex ?? '', 'hex'));
      return;
    case 'close':
      conns.get(c.conn ?? 0)?.end();
      return;
    case 'pause':
      conns.get(c.conn ?? 0)?.pause();
      return;
    case 'keepalives': {
      const conn = c.conn ?? 0;
      clearInterval(keepalives.get(conn));
      if ((c.ms ?? 0) > 0) keepalives.set(conn, setInterval(() => conns.get(conn)?.write(KEEPALIVE), c.ms));
      return;
    }
    case 'destroy':
      conns.get(c.conn ?? 0)?.destroy();
      return;
  }
}

createInterface({ input: process.stdin }).on('line', command);
out({ ev: 'ready' });
