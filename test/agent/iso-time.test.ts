/**
 * isoTime and isoSeconds (agent/contracts/clock.ts): the text of Date's toISOString (seconds only
 * for isoSeconds) across the calendar's edges, built from the UTC getters; and the logger's line
 * built with it leaves V8's time-zone cache untouched: a fresh child that logs one JSON line maps
 * less of the node binary than one that also calls toISOString (ICU's time-zone data).
 */
import test from 'ava';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { isoSeconds, isoTime } from '../../agent/contracts/clock.js';

const instants: number[] = [
  0, 1, 9, 10, 99, 100, 999, 1000,
  Date.UTC(1999, 11, 31, 23, 59, 59, 999), Date.UTC(2000, 0, 1), Date.UTC(2000, 1, 29, 12, 0, 0, 5),
  Date.UTC(2026, 11, 8, 2, 25, 48, 761), Date.UTC(2038, 0, 19, 3, 14, 8), Date.UTC(9999, 11, 31, 23, 59, 59, 999),
  Date.UTC(100, 0, 1), -1, Date.UTC(1969, 6, 20, 20, 17, 40),
];

for (const ms of instants) {
  test(`isoTime(${ms}) is toISOString's text`, (t) => {
    const want = new Date(ms).toISOString();
    t.is(isoTime(ms), want);
    t.is(isoSeconds(ms), want.replace(/\.\d{3}Z$/, 'Z'));
  });
}

test('isoTime across a day in steps of 997 ms matches toISOString', (t) => {
  const start = Date.UTC(2024, 1, 28, 23, 0, 0);
  for (let ms = start; ms < start + 86_400_000; ms += 997_013) t.is(isoTime(ms), new Date(ms).toISOString());
});

const LOG = fileURLToPath(new URL('../../agent/daemon/log.js', import.meta.url));
// RssFile after the logger wrote one JSON line, then again after a toISOString: the second adds
// ICU's time-zone data, which the first must not have touched already.
const PROBE = `
import { readFileSync } from 'node:fs';
import { Writable } from 'node:stream';
const { createLog } = await import(process.argv[1]);
const file = () => Number(/RssFile:\\s+(\\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))[1]);
const lines = [];
const stream = new Writable({ write(c, _e, done) { lines.push(String(c)); done(); } });
const root = createLog({ level: 'info', format: 'json' }, { stream });
root.log.info('hello');
await new Promise((r) => setTimeout(r, 20));
const logged = file();
new Date().toISOString();
const after = file();
process.stdout.write(JSON.stringify({ lines: lines.length, addedKiB: after - logged }));
`;

test('a log line does not load the time-zone data that toISOString loads', async (t) => {
  const out = await new Promise<string>((resolve, reject) => {
    execFile(process.execPath, ['--input-type=module', '-e', PROBE, LOG], (err, stdout, stderr) => (err === null ? resolve(stdout) : reject(new Error(`${err.message}\n${stderr}`))));
  });
  const r = JSON.parse(out) as { lines: number; addedKiB: number };
  t.is(r.lines, 1);
  t.true(r.addedKiB >= 256, `toISOString after the log line mapped only ${r.addedKiB} KiB more: the log line had loaded it already`);
});
