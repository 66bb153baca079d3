import test from 'ava';

import { looksLikePeerAddress } from '../../agent/control/commands.js';
import { EMPTY_LINE_STATE, parseRequest, splitLines } from '../../agent/control/protocol.js';

const ok: [string, unknown][] = [
  ['{"id":1,"cmd":"status"}', { id: 1, cmd: 'status' }],
  ['{"id":"a","cmd":"status","args":{}}', { id: 'a', cmd: 'status' }],
  ['{"id":2,"cmd":"peers","args":{"address":"10.0.1.1"}}', { id: 2, cmd: 'peers', address: '10.0.1.1' }],
  ['{"id":3,"cmd":"peers"}', { id: 3, cmd: 'peers' }],
  ['{"id":4,"cmd":"routes","args":{"family":"ipv6"}}', { id: 4, cmd: 'routes', family: 'ipv6' }],
  ['{"id":5,"cmd":"wait","args":{"timeout":2.5}}', { id: 5, cmd: 'wait', timeoutSeconds: 2.5 }],
  ['{"id":6,"cmd":"wait"}', { id: 6, cmd: 'wait', timeoutSeconds: 0 }],
  ['{"id":7,"cmd":"reload","args":null}', { id: 7, cmd: 'reload' }],
  ['{"id":0,"cmd":"version"}', { id: 0, cmd: 'version' }],
];

for (const [line, request] of ok) {
  test(`parseRequest accepts ${line}`, (t) => {
    t.deepEqual(parseRequest(line), { ok: true, request });
  });
}

const refused: [string, string, number | string | null, RegExp][] = [
  ['', 'BAD_REQUEST', null, /not JSON/],
  ['{', 'BAD_REQUEST', null, /not JSON/],
  ['\u0000\u00ff garbage', 'BAD_REQUEST', null, /not JSON/],
  ['[1,2]', 'BAD_REQUEST', null, /JSON object/],
  ['"status"', 'BAD_REQUEST', null, /JSON object/],
  ['null', 'BAD_REQUEST', null, /JSON object/],
  ['{"cmd":"status"}', 'BAD_REQUEST', null, /'id'/],
  ['{"id":null,"cmd":"status"}', 'BAD_REQUEST', null, /'id'/],
  ['{"id":{},"cmd":"status"}', 'BAD_REQUEST', null, /'id'/],
  [`{"id":"${'x'.repeat(129)}","cmd":"status"}`, 'BAD_REQUEST', null, /'id'/],
  ['{"id":1}', 'BAD_REQUEST', 1, /'cmd'/],
  ['{"id":1,"cmd":7}', 'BAD_REQUEST', 1, /'cmd'/],
  ['{"id":1,"cmd":"status","extra":1}', 'BAD_REQUEST', 1, /unexpected field 'extra'/],
  ['{"id":1,"cmd":"status","args":[]}', 'BAD_REQUEST', 1, /'args'/],
  ['{"id":1,"cmd":"status","args":{"x":1}}', 'BAD_REQUEST', 1, /unexpected argument 'x'/],
  ['{"id":1,"cmd":"peers","args":{"address":5}}', 'BAD_REQUEST', 1, /'address'/],
  ['{"id":1,"cmd":"routes","args":{"family":"ipx"}}', 'BAD_REQUEST', 1, /'family'/],
  ['{"id":1,"cmd":"wait","args":{"timeout":-1}}', 'BAD_REQUEST', 1, /'timeout'/],
  ['{"id":1,"cmd":"wait","args":{"timeout":"5"}}', 'BAD_REQUEST', 1, /'timeout'/],
  ['{"id":1,"cmd":"wait","args":{"timeout":1e9}}', 'BAD_REQUEST', 1, /'timeout'/],
  ['{"id":1,"cmd":"shutdown"}', 'UNKNOWN_COMMAND', 1, /unknown command 'shutdown'/],
  ['{"id":1,"cmd":"__proto__"}', 'UNKNOWN_COMMAND', 1, /unknown command/],
  ['{"id":1,"cmd":"toString"}', 'UNKNOWN_COMMAND', 1, /unknown command/],
];

for (const [line, code, id, message] of refused) {
  test(`parseRequest refuses ${JSON.stringify(line.slice(0, 60))} with ${code}`, (t) => {
    const result = parseRequest(line);
    t.false(result.ok);
    if (result.ok) return;
    t.is(result.error.code, code);
    t.is(result.id, id);
    t.regex(result.error.message, message);
  });
}

test('splitLines gives the same lines whatever the chunking', (t) => {
  const text = Buffer.from('{"id":1,"cmd":"status"}\r\n\n{"id":2,"cmd":"version"}\n  \n{"id":3,"cmd":"peers"}\npartial');
  const expected = ['{"id":1,"cmd":"status"}', '{"id":2,"cmd":"version"}', '{"id":3,"cmd":"peers"}'];
  for (let cut = 0; cut <= text.length; cut++) {
    for (let cut2 = cut; cut2 <= text.length; cut2 += 7) {
      let state = EMPTY_LINE_STATE;
      const lines: string[] = [];
      for (const chunk of [text.subarray(0, cut), text.subarray(cut, cut2), text.subarray(cut2)]) {
        const result = splitLines(state, chunk, 1024);
        t.false(result.tooLarge);
        lines.push(...result.lines);
        state = result.state;
      }
      t.deepEqual(lines, expected, `cut at ${cut}, ${cut2}`);
      t.is(state.length, 'partial'.length);
    }
  }
});

test('splitLines reports a line over the bound without keeping it, in one chunk or many', (t) => {
  const max = 100;
  const one = splitLines(EMPTY_LINE_STATE, Buffer.from(`{"id":1}\n${'x'.repeat(101)}\n`), max);
  t.deepEqual(one.lines, ['{"id":1}']);
  t.true(one.tooLarge);
  t.is(one.state.length, 0);
  let state = EMPTY_LINE_STATE;
  let tooLarge = false;
  let chunks = 0;
  while (!tooLarge) {
    const result = splitLines(state, Buffer.alloc(30, 0x61), max);
    chunks += 1;
    state = result.state;
    tooLarge = result.tooLarge;
    t.true(state.length <= max);
  }
  t.is(chunks, 4, 'noticed as soon as the 101st byte arrives, before any newline');
  t.true(splitLines(EMPTY_LINE_STATE, Buffer.from(`${'y'.repeat(100)}\n`), max).lines.length === 1, 'exactly max is fine');
});

test('looksLikePeerAddress', (t) => {
  for (const good of ['10.0.1.1', 'fd00::1', '10.0.1.1:1179', '[fd00::1]:179']) t.true(looksLikePeerAddress(good), good);
  for (const bad of ['', 'r1-tor', '10.0.1', '10.0.1.1:99999', 'fd00::1:179:x', '[10.0.1.1]:179', '10.0.1.1:']) t.false(looksLikePeerAddress(bad), bad);
});
