/**
 * Child process for test/session/socket-options.test.ts, run inside a lab namespace. Prints one
 * JSON event per line on stdout and stays up until killed.
 *
 *   listen  --host H [--port P] [--md5 PEER=KEY]... [--min-ttl N] [--accepted-ttl N]
 *           events: listening {port}, connection {remoteAddress, ttl}, data {data}
 *           answers each chunk with "echo:<chunk>"
 *   connect --host H --port P [--local A] [--md5 KEY] [--ttl N] [--timeout-ms N]
 *           events: connected {localAddress, ttl}, data {data}, error {code, op}
 *           sends "ping" once connected
 */
import * as net from 'node:net';
import { parseArgs } from 'node:util';
import {
  connectWithOptions, getSocketTtl, setListenerMd5Key, setListenerMinTtl, setSocketTtl, SocketOptionError,
} from '../../agent/session/socket-options.js';

function emit(event: string, fields: Record<string, unknown> = {}): void {
  process.stdout.write(`${JSON.stringify({ event, ...fields })}\n`);
}

function optionalInt(value: string | undefined): number | undefined {
  return value === undefined ? undefined : Number(value);
}

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: {
    host: { type: 'string' },
    port: { type: 'string', default: '0' },
    md5: { type: 'string', multiple: true, default: [] },
    'min-ttl': { type: 'string' },
    'accepted-ttl': { type: 'string' },
    local: { type: 'string' },
    ttl: { type: 'string' },
    'timeout-ms': { type: 'string' },
  },
});
const host = values.host;
if (host === undefined) throw new Error('--host is required');
const port = Number(values.port);

function listen(): void {
  const acceptedTtl = optionalInt(values['accepted-ttl']);
  const server = net.createServer((socket) => {
    if (acceptedTtl !== undefined) setSocketTtl(socket, acceptedTtl);
    emit('connection', { remoteAddress: socket.remoteAddress, ttl: getSocketTtl(socket) });
    socket.on('data', (chunk) => {
      emit('data', { data: chunk.toString() });
      socket.write(`echo:${chunk.toString()}`);
    });
    socket.on('error', (err) => emit('error', { code: (err as NodeJS.ErrnoException).code }));
  });
  server.listen({ host, port, ipv6Only: false }, () => {
    for (const spec of values.md5) {
      const eq = spec.indexOf('=');
      setListenerMd5Key(server, spec.slice(0, eq), spec.slice(eq + 1));
    }
    const minTtl = optionalInt(values['min-ttl']);
    if (minTtl !== undefined) setListenerMinTtl(server, minTtl);
    emit('listening', { port: (server.address() as net.AddressInfo).port });
  });
}

async function connect(): Promise<void> {
  const md5Key = values.md5[0];
  try {
    const socket = await connectWithOptions({
      host: host as string,
      port,
      localAddress: values.local,
      md5Key,
      ttl: optionalInt(values.ttl),
      timeoutMs: optionalInt(values['timeout-ms']),
    });
    emit('connected', { localAddress: socket.localAddress, ttl: getSocketTtl(socket) });
    socket.on('data', (chunk) => emit('data', { data: chunk.toString() }));
    socket.on('error', (err) => emit('error', { code: (err as NodeJS.ErrnoException).code, op: 'socket' }));
    socket.write('ping');
  } catch (err) {
    if (!(err instanceof SocketOptionError)) throw err;
    emit('error', { code: err.code, op: err.op });
  }
}

if (positionals[0] === 'listen') {
  listen();
} else if (positionals[0] === 'connect') {
  await connect();
} else {
  throw new Error(`usage: sockopt-peer listen|connect ...; got '${positionals.join(' ')}'`);
}
