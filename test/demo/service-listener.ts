/**
 * The demo's anycast service (`npm run demo`): a TCP listener on 127.0.0.1:PORT inside node n0's
 * namespace, which n0's `dns` service checks. SIGUSR2 closes it (the check fails, n0 withdraws
 * the service prefix) and SIGUSR2 again opens it (the prefix comes back): the break the operator
 * makes by hand. Runs until the demo's lab kills it.
 */
import { createServer, type Server } from 'node:net';

const port = Number(process.argv[2]);
let server: Server | null = null;

function open(): void {
  const s = createServer((socket) => socket.destroy());
  s.listen(port, '127.0.0.1', () => process.stdout.write(`listening on 127.0.0.1:${port}\n`));
  server = s;
}

process.on('SIGUSR2', () => {
  if (server === null) return open();
// Closed, nothing else would hold the event loop: stay until the lab kills us.
setInterval(() => undefined, 1 << 30);
  server.close();
  server = null;
  process.stdout.write('closed\n');
});
open();
// Closed, nothing else would hold the event loop: stay until the lab kills us.
setInterval(() => undefined, 1 << 30);
