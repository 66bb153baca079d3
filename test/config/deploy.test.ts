/** deploy/ agrees with config/: the protocol name file names the default route protocol. */

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import test from 'ava';
import { DEFAULT_ROUTE_PROTOCOL } from '../../config/formats.js';

const file = fileURLToPath(new URL('../../../deploy/iproute2/rt_protos.d/rack-agent.conf', import.meta.url));

test('rt_protos.d names the default kernel.routeProtocol rack-agent', (t) => {
  const entries = readFileSync(file, 'utf8')
    .split('\n')
    .map((l) => l.replace(/#.*/, '').trim())
    .filter((l) => l !== '')
    .map((l) => l.split(/\s+/));
  t.deepEqual(entries, [[String(DEFAULT_ROUTE_PROTOCOL), 'rack-agent']]);
});
