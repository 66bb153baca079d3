/**
 * Not a test of the suite (no `.test.js`): fixture.test.ts runs it with ava and a 3 s timeout, so
 * that ava ends the worker with SIGTERM while the test holds a `useLab` lab.
 */
import test from 'ava';
import { useLab } from '../helpers/lab-fixture.js';
import { holdLab } from './hold-lab.js';

test('holds a lab until ava times out', async (t) => {
  await holdLab(await useLab(t, 'fxava'));
});
