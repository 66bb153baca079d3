/**
 * A child for fixture.test.ts: makes a lab with two namespaces, a veth and a sleeping process in
 * it, prints `{prefix, pid}` as one JSON line (to $HOLD_LAB_FILE if set) and then waits to be killed by a signal. With `ava`
 * as its argument it is instead an ava test file (run by fixture.test.ts with a short timeout)
 * whose test holds a `useLab` lab until ava's timeout SIGTERMs the worker.
 *
 * Not here: the checks (fixture.test.ts).
 */
import { writeFileSync } from 'node:fs';
import { Lab } from '../helpers/netns.js';

export async function holdLab(lab: Lab): Promise<void> {
  const a = await lab.namespace('a');
  const b = await lab.namespace('b');
  await lab.veth(a, '10.9.0.1/24', b, '10.9.0.2/24');
  const sleeper = lab.spawn(a, 'sleep', ['600']);
  const line = `${JSON.stringify({ prefix: lab.prefix, pid: sleeper.pid })}\n`;
  // Under ava the worker's stdout reaches the reporter late: HOLD_LAB_FILE names a file for it.
  if (process.env.HOLD_LAB_FILE !== undefined) writeFileSync(process.env.HOLD_LAB_FILE, line);
  else process.stdout.write(line);
  await new Promise<void>(() => setInterval(() => undefined, 60_000));
}

if (process.argv[1]?.endsWith('hold-lab.js') === true) await holdLab(await Lab.create('fxsig'));
