/**
 * The Agent helper leaves no /tmp/rack-agent-test-* behind: not when a start fails, not for an agent
 * nobody disposed, not when ava ends the worker on its timeout (SIGTERM, no 'exit' event by
 * default). Each case runs with TMPDIR set to a dir of its own, so other runs' dirs never count.
 */
import test from 'ava';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Agent } from '../helpers/agent.js';
import { isRoot, Lab } from '../helpers/netns.js';

const HELPER = fileURLToPath(new URL('../helpers/agent.js', import.meta.url));

function privateTmp(): string {
  return mkdtempSync(join(tmpdir(), 'rack-agent-dirs-'));
}

/** A child that creates an agent (not launched) and never disposes it, then idles or exits. */
function child(tmp: string, then: 'exit' | 'wait'): Promise<{ code: number | null; signal: NodeJS.Signals | null; created: string[] }> {
  const script = `
    const { Agent } = await import(${JSON.stringify(HELPER)});
    const { readdirSync } = await import('node:fs');
    await Agent.start({}, 'ns', { node: { name: 'n0' } }, { launch: false });
    process.stdout.write(JSON.stringify(readdirSync(${JSON.stringify(tmp)})) + '\\n');
    if (${JSON.stringify(then)} === 'wait') setInterval(() => undefined, 1000);`;
  return new Promise((resolve, reject) => {
    const c = spawn(process.execPath, ['--input-type=module', '-e', script], { env: { ...process.env, TMPDIR: tmp }, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    c.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (then === 'wait' && out.endsWith('\n')) c.kill('SIGTERM');
    });
    c.on('error', reject);
    c.on('exit', (code, signal) => resolve({ code, signal, created: out.trim() === '' ? [] : (JSON.parse(out) as string[]) }));
  });
}

for (const then of ['exit', 'wait'] as const) {
  test(`an agent never disposed: its dir is gone after the process ${then === 'exit' ? 'exits' : 'is ended by SIGTERM (ava\'s timeout)'}`, async (t) => {
    const tmp = privateTmp();
    try {
      const r = await child(tmp, then);
      t.is(r.created.length, 1, 'the child made its agent dir');
      t.regex(r.created[0] ?? '', /^rack-agent-test-/);
      const expected = then === 'exit' ? { code: 0, signal: null } : { code: null, signal: 'SIGTERM' };
      t.deepEqual({ code: r.code, signal: r.signal }, expected, 'the process ends as it would have without the helper');
      t.deepEqual(readdirSync(tmp), []);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });
}

(isRoot ? test.serial : test.serial.skip)('an agent that fails to start: its dir is gone when start() throws', async (t) => {
  const tmp = privateTmp();
  const saved = process.env.TMPDIR;
  const lab = await Lab.create('agentdirs');
  try {
    const ns = await lab.namespace('node');
    process.env.TMPDIR = tmp;
    await t.throwsAsync(Agent.start(lab, ns, { node: { name: 'n0' }, bgp: { asNumber: 'not a number' } }), { message: /exited/ });
    t.deepEqual(readdirSync(tmp), []);
  } finally {
    if (saved === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = saved;
    await lab.destroy();
    rmSync(tmp, { recursive: true, force: true });
  }
});
