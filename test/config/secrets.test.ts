/**
 * A password file's content never reaches an error, a problem, a log line or the Config: loading
 * only stats the file, and readPassword's errors name the file, never the key.
 */

import test from 'ava';
import { ConfigError, formatProblems, loadConfig, readPassword } from '../../config/index.js';
import { baseDoc, makeTempDir, writeConfig, writeKeyFile } from './helpers.js';

const SECRET = 'MARKER-s3cret-7f3a';
const tmp = makeTempDir();
test.after.always(() => tmp.remove());

/** Every text an error could show: message, stack, problems, formatted list, JSON. */
function allText(err: ConfigError): string {
  return [err.message, err.stack, String(err), formatProblems(err.problems), JSON.stringify(err.problems), JSON.stringify(err)].join('\n');
}

function assertNoSecret(t: { false: (v: boolean, m?: string) => void }, err: ConfigError | undefined): void {
  if (err) t.false(allText(err).includes(SECRET.slice(0, 8)), allText(err));
}

test('a world-readable key file is refused without its content in the error', (t) => {
  const doc = baseDoc();
  doc.bgp.peers[0].passwordFile = writeKeyFile(tmp.dir, 'open.key', `${SECRET}\n`, 0o644);
  doc.bgp.holdTime = 1; // a second problem, so the whole list is rendered
  const err = t.throws(() => loadConfig(writeConfig(tmp.dir, 'open.yaml', doc)), { instanceOf: ConfigError });
  t.is(err?.code, 'CONFIG_INVALID');
  t.deepEqual(err?.problems.map((p) => p.path), ['bgp.holdTime', 'bgp.peers[0].passwordFile']);
  assertNoSecret(t, err);
});

test('a good key file loads as a path only', (t) => {
  const doc = baseDoc();
  const key = writeKeyFile(tmp.dir, 'good.key', `${SECRET}\n`, 0o600);
  doc.bgp.peers[0].passwordFile = key;
  const config = loadConfig(writeConfig(tmp.dir, 'good.json', doc));
  t.is(config.bgp.peers[0].passwordFile, key);
  t.false(JSON.stringify(config).includes(SECRET));
  t.is(readPassword(key), SECRET);
});

const bad: { name: string; content: string; mode: number; code: ConfigError['code']; says: string }[] = [
  { name: 'world-readable', content: SECRET, mode: 0o604, code: 'CONFIG_UNREADABLE', says: 'readable by every user' },
  { name: 'too long', content: SECRET.repeat(5), mode: 0o600, code: 'CONFIG_INVALID', says: '90 bytes' },
  { name: 'two lines', content: `${SECRET}\n${SECRET}\n`, mode: 0o600, code: 'CONFIG_INVALID', says: 'more than one line' },
  { name: 'empty', content: '\n', mode: 0o600, code: 'CONFIG_INVALID', says: 'is empty' },
];
for (const row of bad) {
  test(`readPassword refuses a key file that is ${row.name}, naming only the file`, (t) => {
    const path = writeKeyFile(tmp.dir, `${row.name}.key`, row.content, row.mode);
    const err = t.throws(() => readPassword(path), { instanceOf: ConfigError });
    t.is(err?.code, row.code);
    t.is(err?.path, path);
    t.true(err?.message.includes(path));
    t.true(err?.message.includes(row.says), err?.message);
    assertNoSecret(t, err);
  });
}

test('readPassword of a missing file', (t) => {
  const err = t.throws(() => readPassword(`${tmp.dir}/absent.key`), { instanceOf: ConfigError });
  t.is(err?.code, 'CONFIG_UNREADABLE');
});

for (const name of ['tor1.key', 'tor1.json', 'tor1.yaml']) {
  test(`a key file given as the config (${name}) does not leak into the error`, (t) => {
    const path = writeKeyFile(tmp.dir, name, `${SECRET}\n`, 0o600);
    const err = t.throws(() => loadConfig(path), { instanceOf: ConfigError });
    assertNoSecret(t, err);
  });
}
