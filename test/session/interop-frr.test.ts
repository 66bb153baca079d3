/**
 * Issue 3, must show 2, with FRR 8.4 (bgpd with zebra) as the ToR: the interop matrix of
 * interop-matrix.ts (iBGP route reflection, eBGP 2- and 4-octet; connect order, both families,
 * MD5, GTSM, hold timer, restart, NOTIFICATION) against our sessions in the session driver.
 */
import { Frr } from '../helpers/frr.js';
import { interopMatrix } from './interop-matrix.js';

interopMatrix('frr', (lab, ns, options) => Frr.start(lab, ns, options));
