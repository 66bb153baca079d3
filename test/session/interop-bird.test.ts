/**
 * Issue 3, must show 2, with BIRD 2 as the ToR: the interop matrix of interop-matrix.ts (iBGP
 * route reflection, eBGP 2- and 4-octet; connect order, both families, MD5, GTSM, hold timer,
 * restart, NOTIFICATION) against our sessions in the session driver.
 */
import { Bird } from '../helpers/bird.js';
import { interopMatrix } from './interop-matrix.js';

interopMatrix('bird', (lab, ns, options) => Bird.start(lab, ns, options));
