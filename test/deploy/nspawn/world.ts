/**
 * The world of the `npm run test:systemd` proofs: a lab with the container's namespace and a BIRD 2
 * ToR namespace on a veth (iBGP route reflector in AS 64512, announcing two blocks of other
 * nodes), the .deb built from this build in a host directory bound read-only at /mnt/test, and
 * the Debian 13 container booted on the cached root (container.ts). The lab owns everything: one
 * destroy() halts the container, stops BIRD and deletes both namespaces.
 * Not here: the proofs (unit.systemd.ts, role.systemd.ts).
 */

import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { Bird } from '../../helpers/bird.js';
import { Lab } from '../../helpers/netns.js';
import { buildDeb } from '../deb.js';
import { Container, debianRoot } from './container.js';

export const AS = 64512;
export const NODE = '10.0.1.13';
export const TOR = '10.0.1.1';
/** What the ToR announces: other nodes' blocks, installed by the agent via the ToR. */
export const LEARNT = ['192.168.1.0/26', '192.168.1.64/26'];

export interface World {
  lab: Lab;
  ct: Container;
  bird: Bird;
  /** The container's namespace. */
  ns: string;
  /** Host directory bound read-only at /mnt/test: the .deb and whatever the test puts there. */
  share: string;
  /** The .deb's file name in `share`. */
  deb: string;
  /** Its host path. */
  debPath: string;
  started: number;
}

export async function bootWorld(name: string): Promise<World> {
  const started = Date.now();
  const root = await debianRoot();
  const rootMs = Date.now() - started;
  const lab = await Lab.create(name);
  try {
    const share = mkdtempSync(join(tmpdir(), 'rack-sysd-'));
    lab.defer(() => rmSync(share, { recursive: true, force: true }));
    const built = await buildDeb();
    const debPath = join(share, basename(built));
    copyFileSync(built, debPath);
    rmSync(join(built, '..'), { recursive: true, force: true });
    const ns = await lab.namespace('ct');
    const torNs = await lab.namespace('tor');
    await lab.veth(ns, `${NODE}/24`, torNs, `${TOR}/24`);
    const bird = await Bird.start(lab, torNs, {
      routerId: TOR, localAs: AS, routes: { ipv4: LEARNT },
      neighbors: [{ address: NODE, as: AS, rrClient: true, connectRetry: 1 }],
    });
    const ct = await Container.boot(lab, { root, ns, bindReadOnly: [[share, '/mnt/test']] });
    console.log(`test:systemd ${name}: root ready in ${(rootMs / 1000).toFixed(1)} s, container up ${((Date.now() - started) / 1000).toFixed(1)} s after the start`);
    return { lab, ct, bird, ns, share, deb: basename(debPath), debPath, started };
  } catch (err) {
    await lab.destroy();
    throw err;
  }
}
