/**
 * The ToR both bench:e2e and bench:restart feed a node from: a BIRD 2 route reflector in namespace
 * `r` (10.1.0.1, AS 65100) holding N static /26 from 64.0.0.0 (inside the node's pool 64.0.0.0/6,
 * away from the link's 10.1.0.0/24), sent to the node (10.1.0.2) with next hop self; with graceful
 * restart when asked (bench:restart). Not here: the node, the measurements.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { numberToIpv4 } from '../../agent/bgp/ip.js';

export const FIRST = 0x40000000;
export const AS = 65100;
export const RR = '10.1.0.1';
export const NODE = '10.1.0.2';

/** Writes bird.conf for the ToR (and its route list, once per count) into `dir`; returns its path. */
export function reflectorConfig(dir: string, count: number, o: { gracefulRestart?: boolean } = {}): string {
  const routes = join(dir, `routes-${count}.conf`);
  if (!existsSync(routes)) {
    const lines = new Array<string>(count);
    for (let i = 0; i < count; i++) lines[i] = `route ${numberToIpv4((FIRST + i * 64) >>> 0)}/26 blackhole;`;
    writeFileSync(routes, `${lines.join('\n')}\n`);
  }
  const conf = join(dir, 'rr.conf');
  writeFileSync(conf, [
    `router id ${RR};`,
    'protocol device {}',
    'protocol static s4 { ipv4;',
    `include "${routes}";`,
    '}',
    `protocol bgp node { local ${RR} as ${AS}; neighbor ${NODE} as ${AS}; direct; passive on; rr client; rr cluster id ${RR};`,
    ...(o.gracefulRestart === true ? ['  graceful restart on;'] : []),
    '  ipv4 { import none; export all; next hop self; }; }',
    '',
  ].join('\n'));
  return conf;
}
