/**
 * `rack-agent`'s command line: the argument table (pure), and the built program as a child
 * process: every example config passes --check-config with status 0, usage errors exit 64, and a
 * key file's content never appears in what --check-config prints.
 */

import test from 'ava';
import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { defaultNodeEnv, parseMainArgs, type MainArgs } from '../../agent/daemon/main-args.js';
import { baseDoc, makeTempDir, writeConfig, writeKeyFile } from '../config/helpers.js';

const MAIN = fileURLToPath(new URL('../../agent/main.js', import.meta.url));
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

function run(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ status: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [MAIN, ...args], { env: { PATH: process.env.PATH, ...env } }, (err, stdout, stderr) => {
      resolve({ status: err === null ? 0 : typeof err.code === 'number' ? err.code : -1, stdout, stderr });
    });
  });
}

const rows: { argv: string[]; env?: Record<string, string>; want: MainArgs }[] = [
  { argv: ['--config', 'a.yaml'], want: { mode: 'run', config: 'a.yaml' } },
  { argv: ['--config=a.yaml'], want: { mode: 'run', config: 'a.yaml' } },
  { argv: ['-c', 'a.yaml', '--check-config'], want: { mode: 'check', config: 'a.yaml' } },
  { argv: ['--check-config', '--config', 'a.yaml'], want: { mode: 'check', config: 'a.yaml' } },
  { argv: [], env: { RACK_AGENT_CONFIG: 'env.yaml' }, want: { mode: 'run', config: 'env.yaml' } },
  { argv: ['--config', 'a.yaml'], env: { RACK_AGENT_CONFIG: 'env.yaml' }, want: { mode: 'run', config: 'a.yaml' } },
  { argv: ['--version'], want: { mode: 'version' } },
  { argv: ['--help'], want: { mode: 'help' } },
  { argv: [], want: { mode: 'usage-error', message: 'no config file: give --config FILE or set RACK_AGENT_CONFIG' } },
  { argv: ['--config'], want: { mode: 'usage-error', message: '--config needs a file name' } },
  { argv: ['--conf', 'x'], want: { mode: 'usage-error', message: 'unknown argument "--conf"' } },
];

for (const r of rows) {
  test(`parseMainArgs ${JSON.stringify(r.argv)} ${JSON.stringify(r.env ?? {})}`, (t) => {
    t.deepEqual(parseMainArgs(r.argv, r.env ?? {}), r.want);
  });
}

const nodeEnvRows: { given: string | undefined; want: string }[] = [
  { given: undefined, want: 'production' },
  { given: '', want: 'production' },
  { given: 'development', want: 'development' },
  { given: 'production', want: 'production' },
];

for (const r of nodeEnvRows) {
  test(`defaultNodeEnv: NODE_ENV ${JSON.stringify(r.given)} -> ${r.want}`, (t) => {
    const env: Record<string, string | undefined> = r.given === undefined ? {} : { NODE_ENV: r.given };
    defaultNodeEnv(env);
    t.is(env.NODE_ENV, r.want);
  });
}

// The entry point itself sets it before anything else loads: what the process sees at exit.
const PRINT_NODE_ENV = 'data:text/javascript,process.on("exit",()=>process.stdout.write("NODE_ENV="+process.env.NODE_ENV))';
for (const [given, want] of [[undefined, 'production'], ['development', 'development']] as const) {
  test(`rack-agent runs with NODE_ENV=${want} when the environment gives ${String(given)}`, async (t) => {
    const r = await new Promise<string>((resolve, reject) => {
      const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, ...(given === undefined ? {} : { NODE_ENV: given }) };
      execFile(process.execPath, ['--import', PRINT_NODE_ENV, MAIN, '--version'], { env }, (err, stdout) => (err === null ? resolve(stdout) : reject(err)));
    });
    t.regex(r, new RegExp(`NODE_ENV=${want}$`));
  });
}

const examples = ['config/examples', 'deploy/examples']
  .flatMap((d) => {
    try {
      return readdirSync(ROOT + d).filter((f) => /\.(ya?ml|json)$/.test(f)).map((f) => `${ROOT}${d}/${f}`);
    } catch {
      return [];
    }
  });

test('there are example configs', (t) => {
  t.true(examples.length >= 4);
});

for (const file of examples) {
  test(`--check-config passes ${file.slice(ROOT.length)}`, async (t) => {
    const r = await run(['--check-config', '--config', file]);
    t.is(r.status, 0, r.stderr);
    t.regex(r.stdout, /: valid \(node /);
  });
}

test('RACK_AGENT_CONFIG names the file for --check-config', async (t) => {
  const r = await run(['--check-config'], { RACK_AGENT_CONFIG: examples[0] });
  t.is(r.status, 0, r.stderr);
});

test('usage errors exit 64 with the usage text', async (t) => {
  const r = await run(['--bogus']);
  t.is(r.status, 64);
  t.regex(r.stderr, /unknown argument "--bogus"/);
  t.regex(r.stderr, /usage: rack-agent/);
});

test('--check-config never prints a key file\'s content', async (t) => {
  const tmp = makeTempDir();
  try {
    const secret = 'MARKER-cli-s3cret-91ab';
    const doc = baseDoc();
    doc.bgp.peers[0].passwordFile = writeKeyFile(tmp.dir, 'open.key', `${secret}\n`, 0o644);
    const bad = await run(['--check-config', '--config', writeConfig(tmp.dir, 'bad.yaml', doc)]);
    t.is(bad.status, 78);
    t.regex(bad.stderr, /bgp\.peers\[0\]\.passwordFile: /);
    doc.bgp.peers[0].passwordFile = writeKeyFile(tmp.dir, 'good.key', `${secret}\n`, 0o600);
    const good = await run(['--check-config', '--config', writeConfig(tmp.dir, 'good.yaml', doc)]);
    t.is(good.status, 0, good.stderr);
    for (const out of [bad.stdout, bad.stderr, good.stdout, good.stderr]) t.false(out.includes('s3cret'), out);
  } finally {
    tmp.remove();
  }
});

test('a missing config file exits 78 naming the file', async (t) => {
  const r = await run(['--check-config', '--config', '/nonexistent/rack-agent.yaml']);
  t.is(r.status, 78);
  t.regex(r.stderr, /\/nonexistent\/rack-agent\.yaml: no such file/);
});
