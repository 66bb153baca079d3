/**
 * A bare NetlinkChannel in a child process (for a network namespace): joins the IPv4 route group
 * with a small receive buffer and reports, as NDJSON on stdout, how many route notifications and
 * which errors arrived. stdin commands: {"cmd":"block","ms":N} busy-blocks the event loop,
 * {"cmd":"count"} answers {"event":"count","messages":N,"errors":[codes]}, {"cmd":"exit"}.
 * Used by test/netlink/channel.test.ts to show that ENOBUFS arrives as an error event and that
 * the socket goes on delivering afterwards.
 */
import { createInterface } from 'node:readline';
import { NetlinkChannel } from '../../netlink/rtnetlink/channel.js';
import { RTNLGRP } from '../../netlink/rtnetlink/constants.js';
import { splitMessages } from '../../netlink/rtnetlink/message.js';

const emit = (event: Record<string, unknown>): void => {
  process.stdout.write(`${JSON.stringify(event)}\n`);
};

let messages = 0;
const errors: string[] = [];
const channel = NetlinkChannel.open({
  groups: [RTNLGRP.IPV4_ROUTE],
  rcvbuf: Number(process.argv[2] ?? 65536),
  onData: (buf) => {
    messages += splitMessages(buf).length;
  },
  onError: (err) => {
    errors.push(err.code);
    emit({ event: 'error', code: err.code, errno: err.errno, op: err.op, message: err.message });
  },
});
emit({ event: 'ready', portId: channel.portId });

for await (const line of createInterface({ input: process.stdin })) {
  const cmd = JSON.parse(line) as { cmd: string; ms?: number; id?: number };
  if (cmd.cmd === 'block') {
    const until = Date.now() + (cmd.ms ?? 0);
    while (Date.now() < until) {
      // busy: the socket fills up
    }
    emit({ event: 'block', id: cmd.id });
  } else if (cmd.cmd === 'count') {
    emit({ event: 'count', id: cmd.id, messages, errors });
  } else if (cmd.cmd === 'exit') {
    channel.close();
    channel.close(); // idempotent
    emit({ event: 'exit', id: cmd.id });
    break;
  }
}
