/**
 * The services' checkers (agent/services/checks.ts) against the real thing on loopback: a TCP
 * listener (open, then closed), an HTTP server answering 200, 500 or never, and programs that
 * exit 0, exit 1, and hang (`sleep 10`, and a shell that starts one) killed at the timeout with
 * what they started. Each row gives the check and what it must answer; a hung check must end
 * within its timeout plus a margin for a busy machine.
 */

import test from 'ava';
import { execFileSync } from 'node:child_process';
import { createServer as createHttp, type Server as HttpServer } from 'node:http';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { systemClock } from '../../agent/contracts/clock.js';
import { checkers } from '../../agent/services/index.js';
import type { ServiceCheck } from '../../config/types.js';
import { waitFor } from '../helpers/wait.js';

const run = checkers(systemClock);
/** Over the timeout a hung check may take to be given up (the event loop of a shared machine). */
const MARGIN_MS = 700;

let tcp: Server;
let tcpPort = 0;
let closedPort = 0;
let http: HttpServer;
let httpPort = 0;

test.before(async () => {
  tcp = createServer((s) => s.destroy());
  await new Promise<void>((r) => tcp.listen(0, '127.0.0.1', r));
  tcpPort = (tcp.address() as AddressInfo).port;
  // A port nobody listens on: listen, note it, close.
  const gone = createServer();
  await new Promise<void>((r) => gone.listen(0, '127.0.0.1', r));
  closedPort = (gone.address() as AddressInfo).port;
  await new Promise<void>((r) => gone.close(() => r()));
  http = createHttp((req, res) => {
    if (req.url === '/ok') res.writeHead(200).end('ok');
    else if (req.url === '/no-content') res.writeHead(204).end();
    else if (req.url === '/broken') res.writeHead(500).end('broken');
    // '/hang': never answers
  });
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  httpPort = (http.address() as AddressInfo).port;
});

test.after.always(() => {
  tcp?.close();
  http?.closeAllConnections();
  http?.close();
});

interface Row {
  readonly name: string;
  readonly check: () => ServiceCheck;
  readonly timeoutMs: number;
  readonly ok: boolean;
  readonly detail: RegExp;
  /** The check hangs: it must end at its timeout (not before, not much after). */
  readonly hangs?: boolean;
}

const rows: Row[] = [
  { name: 'tcp: a listener', check: () => ({ kind: 'tcp', address: '127.0.0.1', port: tcpPort }), timeoutMs: 1000, ok: true, detail: /^connected$/ },
  { name: 'tcp: nobody listening', check: () => ({ kind: 'tcp', address: '127.0.0.1', port: closedPort }), timeoutMs: 1000, ok: false, detail: /ECONNREFUSED/ },
  { name: 'http: 200', check: () => ({ kind: 'http', url: `http://127.0.0.1:${httpPort}/ok`, status: 200 }), timeoutMs: 1000, ok: true, detail: /^HTTP 200$/ },
  { name: 'http: 204 expected', check: () => ({ kind: 'http', url: `http://127.0.0.1:${httpPort}/no-content`, status: 204 }), timeoutMs: 1000, ok: true, detail: /^HTTP 204$/ },
  { name: 'http: 500', check: () => ({ kind: 'http', url: `http://127.0.0.1:${httpPort}/broken`, status: 200 }), timeoutMs: 1000, ok: false, detail: /^HTTP 500, expected 200$/ },
  { name: 'http: hangs', check: () => ({ kind: 'http', url: `http://127.0.0.1:${httpPort}/hang`, status: 200 }), timeoutMs: 400, ok: false, detail: /^timed out after 0.4 s$/, hangs: true },
  { name: 'http: nobody listening', check: () => ({ kind: 'http', url: `http://127.0.0.1:${closedPort}/`, status: 200 }), timeoutMs: 1000, ok: false, detail: /ECONNREFUSED/ },
  { name: 'exec: /bin/true', check: () => ({ kind: 'exec', argv: ['/bin/true'] }), timeoutMs: 2000, ok: true, detail: /^exit 0$/ },
  { name: 'exec: /bin/false', check: () => ({ kind: 'exec', argv: ['/bin/false'] }), timeoutMs: 2000, ok: false, detail: /^exit 1$/ },
  { name: 'exec: stderr in the detail', check: () => ({ kind: 'exec', argv: ['/bin/sh', '-c', 'echo "no zone loaded" >&2; exit 3'] }), timeoutMs: 2000, ok: false, detail: /^exit 3: no zone loaded$/ },
  { name: 'exec: no shell (a shell line is one argument)', check: () => ({ kind: 'exec', argv: ['/bin/echo', '$(touch /tmp/never) && exit 1'] }), timeoutMs: 2000, ok: true, detail: /^exit 0$/ },
  { name: 'exec: no such program', check: () => ({ kind: 'exec', argv: ['/nonexistent/dns-ok'] }), timeoutMs: 2000, ok: false, detail: /ENOENT/ },
  { name: 'exec: sleep 10 killed at the timeout', check: () => ({ kind: 'exec', argv: ['/bin/sleep', '10'] }), timeoutMs: 500, ok: false, detail: /^timed out after 0.5 s$/, hangs: true },
];

for (const row of rows) {
  test(`check: ${row.name}`, async (t) => {
    const started = Date.now();
    const o = await run(row.check(), row.timeoutMs);
    const took = Date.now() - started;
    t.is(o.ok, row.ok, o.detail);
    t.regex(o.detail, row.detail);
    if (row.hangs === true) t.true(took >= row.timeoutMs - 20 && took < row.timeoutMs + MARGIN_MS, `ended at the timeout: ${took} ms`);
    else t.true(took < row.timeoutMs, `answered before the timeout: ${took} ms`);
  });
}

/** Processes whose command line holds `marker` (pgrep -f, read only). */
function running(marker: string): string {
  try {
    return execFileSync('pgrep', ['-f', marker], { encoding: 'utf8' }).trim();
  } catch {
    return '';
  }
}

test('check: a hung exec is killed with what it started (its process group)', async (t) => {
  // A shell that starts a sleep and waits: both must be gone after the timeout.
  const marker = `${process.pid}${Date.now() % 100000}`;
  const seconds = `3${marker}`; // sleep's argument names this run; sleep never gets that far
  const o = await run({ kind: 'exec', argv: ['/bin/sh', '-c', `/bin/sleep ${seconds}; true`] }, 400);
  t.false(o.ok);
  t.regex(o.detail, /^timed out/);
  // SIGKILL is delivered at once; the kernel reaps within moments.
  await waitFor(() => running(`sleep ${seconds}`) === '', { timeoutMs: 1000, what: 'the grandchild sleep to be gone' });
  t.pass();
});
