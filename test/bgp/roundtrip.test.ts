import test from 'ava';
import { decodeMessage, encodeMessage } from '../../agent/bgp/index.js';
import { samples } from './samples.js';

for (const s of samples) {
  test(`round trip: ${s.name}`, (t) => {
    const bytes = encodeMessage(s.message, s.ctx);
    t.is((bytes[16] << 8) | bytes[17], bytes.length, 'header length equals the encoded length');
    const decoded = decodeMessage(bytes, s.ctx);
    t.deepEqual(decoded, s.message, 'decode(encode(x)) equals x');
    t.deepEqual(encodeMessage(decoded, s.ctx), bytes, 're-encoding gives the same bytes');
  });
}
