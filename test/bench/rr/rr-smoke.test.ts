/**
 * bench:rr's smoke (issue 21), in npm test: the generator (run.ts) with 20 clients against the real
 * agent as route reflector (RFC 4456) and against BIRD 2 when installed; every client must hold every
 * other client's three blocks, no client gets its own routes back, reflected routes carry
 * ORIGINATOR_ID and CLUSTER_LIST, and the 1% churn reaches every client. Correctness only, never
 * speed: the deadline is there so a reflector that does not reflect fails in seconds.
 */
import test, { type ExecutionContext } from 'ava';
import { existsSync } from 'node:fs';
import { isRoot } from '../../helpers/netns.js';
import { type Reflector, runRr } from './run.js';

const N = 20;

async function smoke(t: ExecutionContext, reflector: Reflector): Promise<void> {
  const r = await runRr({ n: N, reflector, deadlineMs: 8000 });
  t.is(r.failure, undefined);
  t.true(r.converged, `every client holds every other client's blocks (${reflector})`);
  t.true(Number.isFinite(r.churnSeconds), 'the churn reached every client');
  const { own, unknown, noOriginatorId, noClusterList, malformed, resets } = r.totals;
  t.deepEqual({ own, unknown, noOriginatorId, noClusterList, malformed, resets },
    { own: 0, unknown: 0, noOriginatorId: 0, noClusterList: 0, malformed: 0, resets: 0 });
  // Every client got at least one UPDATE per other client and family.
  t.true(r.totals.updates >= N * (N - 1) * 2, `${r.totals.updates} UPDATEs`);
}

test.serial('bench:rr smoke: 20 clients, the agent reflects every block and the churn', async (t) => {
  if (!isRoot) return t.pass('needs root for network namespaces');
  await smoke(t, 'agent');
});

test.serial('bench:rr smoke: 20 clients, BIRD 2 reflects every block and the churn', async (t) => {
  if (!isRoot || !existsSync('/usr/sbin/bird')) return t.pass('needs root and BIRD 2');
  await smoke(t, 'bird');
});
