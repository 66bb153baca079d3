/**
 * The lab fixture itself (test/helpers/lab-fixture.ts): a test whose body throws leaves no
 * namespace and no process behind and shows its owned resources' logs; a process holding a lab
 * that is ended by SIGTERM or SIGINT, and an ava worker ended by ava's timeout, leave no namespace
 * behind either (`ip netns list` has nothing with the lab's prefix).
 *
 * Not here: the Lab's own operations (veth, lan, exec), used by every integration test.
 */
import test from 'ava';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { useLab } from '../helpers/lab-fixture.js';
import { isRoot, rootSkipReason, waitFor } from '../helpers/netns.js';

const nsTest = isRoot ? test.serial : test.serial.skip;
if (!isRoot) test('lab fixture', (t) => t.log(`skipped: ${rootSkipReason}`));

const holdLab = fileURLToPath(new URL('./hold-lab.js', import.meta.url));
const hangInAva = fileURLToPath(new URL('./hang-in-ava.js', import.meta.url));
const avaCli = fileURLToPath(new URL('../../../node_modules/ava/entrypoints/cli.mjs', import.meta.url));

/** Namespaces whose name starts with `prefix`. */
function namespacesOf(prefix: string): Promise<string[]> {
  return new Promise((resolve, reject) => {
    execFile('ip', ['netns', 'list'], { encoding: 'utf8' }, (err, stdout) => {
      if (err !== null) reject(err);
      else resolve(stdout.split('\n').map((l) => l.split(' ')[0]).filter((ns) => ns !== '' && ns.startsWith(prefix)));
    });
  });
}

/** Whether `pid` runs: not gone and not a zombie (an orphan's zombie waits for its reaper). */
function alive(pid: number): boolean {
  try {
    return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return false;
  }
}

/** The `{prefix, pid}` line the child prints (or writes to `file`) once its lab is up. */
async function labOf(child: ChildProcess, file?: string): Promise<{ prefix: string; pid: number }> {
  let out = '';
  child.stdout?.setEncoding('utf8');
  child.stdout?.on('data', (chunk: string) => {
    out += chunk;
  });
  const read = (): string => {
    if (file === undefined) return out;
    try {
      return readFileSync(file, 'utf8');
    } catch {
      return '';
    }
  };
  const line = await waitFor(() => read().split('\n').find((l) => l.startsWith('{"prefix"')), { timeoutMs: 20_000, what: 'the child to report its lab' });
  return JSON.parse(line) as { prefix: string; pid: number };
}

function exitOf(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve({ code: child.exitCode, signal: child.signalCode });
    else child.once('exit', (code, signal) => resolve({ code, signal }));
  });
}

nsTest('a test whose body throws leaves no namespace and no process behind, and logs what the lab owned', async (t) => {
  let prefix = '';
  let pid = 0;
  let disposed = false;
  const attempt = await t.try(async (tt) => {
    const lab = await useLab(tt, 'fxthrow');
    prefix = lab.prefix;
    const a = await lab.namespace('a');
    const b = await lab.namespace('b');
    await lab.veth(a, '10.9.0.1/24', b, '10.9.0.2/24');
    pid = lab.spawn(a, 'sleep', ['600']).pid ?? 0;
    lab.own({ dispose: () => { disposed = true; }, logs: () => 'the owned resource\'s log line' });
    tt.is((await namespacesOf(prefix)).length, 2);
    throw new Error('the body throws');
  });
  const { passed, logs } = attempt;
  attempt.discard();
  t.false(passed);
  t.true(logs.some((l) => l.includes('the owned resource\'s log line')), logs.join('\n'));
  t.true(disposed, 'the owned resource was disposed');
  t.not(pid, 0);
  t.false(alive(pid), 'the process spawned in the lab is gone');
  t.deepEqual(await namespacesOf(prefix), []);
});

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  nsTest(`a process holding a lab that gets ${signal} leaves no namespace behind and dies of the signal`, async (t) => {
    const child = spawn(process.execPath, [holdLab], { stdio: ['ignore', 'pipe', 'inherit'] });
    const { prefix, pid } = await labOf(child);
    t.is((await namespacesOf(prefix)).length, 2);
    child.kill(signal);
    t.deepEqual(await exitOf(child), { code: null, signal });
    await waitFor(() => !alive(pid), { timeoutMs: 5000, what: 'the process spawned in the lab to be gone' });
    t.deepEqual(await namespacesOf(prefix), []);
  });
}

nsTest('an ava worker ended by ava\'s timeout (SIGTERM) in the middle of a useLab test leaves no namespace behind', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'rack-fixture-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'lab.json');
  const child = spawn(process.execPath, [avaCli, hangInAva, '--timeout', '3s'], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, HOLD_LAB_FILE: file } });
  child.stdout?.resume();
  child.stderr?.resume();
  const { prefix, pid } = await labOf(child, file);
  t.is((await namespacesOf(prefix)).length, 2);
  const exit = await exitOf(child);
  t.not(exit.code, 0, 'ava reports the timeout');
  await waitFor(async () => !alive(pid) && (await namespacesOf(prefix)).length === 0, { timeoutMs: 10_000, what: 'the worker\'s lab to be gone' });
  t.pass();
});
