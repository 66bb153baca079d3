/**
 * The lab fixture of the integration tests: `const lab = await useLab(t, 'name')` creates a Lab
 * and registers its destroy() with ava's t.teardown, so the agents, BIRD and FRR started in it
 * (they register themselves with the lab), every process spawned in it and its namespaces are
 * gone when the test ends, passed, failed or thrown. When the test failed, the teardown first logs
 * the tail of each owned resource's log. `withLab(t, 'name', async (lab) => ...)` is the same
 * around a body. A worker ended by ava's timeout (SIGTERM) or by SIGINT is covered by the lab's
 * last resort (netns.ts, last-resort.ts).
 *
 * Not here: labs shared by several tests (test.before / test.after.always with Lab.create), the
 * scripts outside ava (demo, bench, `npm run lab`) that own their labs.
 */
import type { ExecutionContext } from 'ava';
import { Lab } from './netns.js';

/** Lines of each owned resource's log shown when the test failed. */
const FAILURE_LOG_LINES = 40;

export async function useLab(t: ExecutionContext, name: string): Promise<Lab> {
  const lab = await Lab.create(name);
  t.teardown(async () => {
    if (!t.passed) {
      for (const resource of lab.resources()) {
        const log = resource.logs?.();
        if (log !== undefined && log !== '') t.log(log.split('\n').slice(-FAILURE_LOG_LINES).join('\n'));
      }
    }
    await lab.destroy();
  });
  return lab;
}

export async function withLab<T>(t: ExecutionContext, name: string, body: (lab: Lab) => Promise<T>): Promise<T> {
  return body(await useLab(t, name));
}
