/** The framer fed every sample and golden fixture split at every byte offset. */

import test from 'ava';
import { BgpError, encodeMessage, Framer } from '../../agent/bgp/index.js';
import { fixtureBytes, loadManifest } from './fixtures.js';
import { samples } from './samples.js';

const messages: { name: string; bytes: Uint8Array }[] = [
  ...samples.map((s) => ({ name: s.name, bytes: encodeMessage(s.message, s.ctx) })),
  ...loadManifest().map((e) => ({ name: `fixture ${e.file}`, bytes: fixtureBytes(e) })),
];

function feed(chunks: Uint8Array[], extended = false): Uint8Array[] {
  const f = new Framer();
  f.allowExtendedMessages(extended);
  const out: Uint8Array[] = [];
  for (const c of chunks) out.push(...f.push(c));
  return out;
}

test('every message split at every byte offset comes out whole and once', (t) => {
  let checked = 0;
  for (const m of messages) {
    for (let cut = 0; cut <= m.bytes.length; cut++) {
      const out = feed([m.bytes.subarray(0, cut), m.bytes.subarray(cut)]);
      if (out.length !== 1 || Buffer.compare(Buffer.from(out[0]), Buffer.from(m.bytes)) !== 0) {
        t.fail(`${m.name} cut at ${cut}: got ${out.length} messages`);
        return;
      }
      checked++;
    }
  }
  t.true(checked > 1000, `checked ${checked} splits`);
});

test('the whole stream split at every offset, and byte by byte, gives every message in order', (t) => {
  const stream = Buffer.concat(messages.map((m) => Buffer.from(m.bytes)));
  const expected = messages.map((m) => Buffer.from(m.bytes).toString('hex'));
  for (let cut = 0; cut <= stream.length; cut += 1) {
    const got = feed([stream.subarray(0, cut), stream.subarray(cut)]).map((b) => Buffer.from(b).toString('hex'));
    if (got.length !== expected.length || got.some((g, i) => g !== expected[i])) {
      t.fail(`stream cut at ${cut}`);
      return;
    }
  }
  const bytes = Array.from({ length: stream.length }, (_, i) => stream.subarray(i, i + 1));
  t.deepEqual(feed(bytes).map((b) => Buffer.from(b).toString('hex')), expected);
});

test('a message inside one chunk is a view of that chunk, not a copy', (t) => {
  const ka = encodeMessage({ type: 'keepalive' });
  const chunk = Buffer.concat([Buffer.from(ka), Buffer.from(ka)]);
  const [first] = feed([chunk]);
  t.is(first.buffer, chunk.buffer);
});

test('a bad header throws at once, and the framer stays failed', (t) => {
  const f = new Framer();
  const bad = Buffer.alloc(19, 0xff);
  bad[15] = 0;
  bad.writeUInt16BE(19, 16);
  bad[18] = 4;
  const err = t.throws(() => f.push(bad), { instanceOf: BgpError });
  t.is(err?.subcode, 1);
  t.throws(() => f.push(encodeMessage({ type: 'keepalive' })), { instanceOf: BgpError });
});

test('a header claiming 4096 bytes is held without allocating for the claim', (t) => {
  const f = new Framer();
  const head = Buffer.alloc(19, 0xff);
  head.writeUInt16BE(4096, 16);
  head[18] = 2;
  t.deepEqual(f.push(head), []);
  t.is(f.buffered, 19);
  t.deepEqual(f.push(Buffer.alloc(100)), []);
  t.is(f.buffered, 119);
});

test('the header is checked before the body arrives', (t) => {
  const f = new Framer();
  const head = Buffer.alloc(19, 0xff);
  head.writeUInt16BE(5000, 16);
  head[18] = 2;
  t.throws(() => f.push(head), { instanceOf: BgpError });
  const g = new Framer();
  g.allowExtendedMessages();
  t.deepEqual(g.push(head), []);
});
