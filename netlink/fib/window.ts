/**
 * The Fib's bounded window of route requests: `flush` takes queued keys (state.ts), compares each
 * with what the kernel holds (diff.ts) and submits what must change, with at most MAX_SUBMITTED
 * requests handed to the RouteSocket and unanswered; `settled` records each answer (the kernel's
 * result is how we learn about our own changes: our notifications are filtered out) and decides
 * what a failure means (ops.ts); refused routes are retried with a backoff (`retrySoon`).
 * The common request, our route added or replaced at a key no other protocol holds, is a bulk
 * request (route-socket.ts): named by the key's index, its kind in the index's flags and the
 * route it installs in `state.sent`, its message built from those when it is sent; no object per
 * request waits for the kernel (issue 12); IPv4 messages come from templates (templates.ts).
 * Deletes and keys shared with other protocols go as request objects (ops.ts).
 * Not here: what is desired (fib.ts, shapes.ts), the kernel's notifications and dumps (events.ts).
 */
import type { Clock } from '../../agent/contracts/clock.js';
import { NLM_F, RTM } from '../rtnetlink/constants.js';
import type { NetlinkError, NetlinkOp } from '../rtnetlink/errors.js';
import { encodeRoute } from '../rtnetlink/route.js';
import { type BulkRequests, DEFAULT_BATCH, DEFAULT_WINDOW, type RouteSocket } from '../rtnetlink/route-socket.js';
import { type DesiredEntry, diffState, type FibOp, parseKey } from './diff.js';
import { routeToMessage } from './kernel-route.js';
import { failureOf, opRequest } from './ops.js';
import { withPrefix } from './shapes.js';
import {
  alienLengths4, dequeue, enqueue, type FibState, forgetIfEmpty, INFLIGHT, installed, kernelOf, keyOf, mayHaveAliens, OP_ADD, OP_BITS, OP_REPLACE, QUEUED, queued,
  RACED, refusedOf, setKernel, setProblem, wantOf, WITHDRAWN,
} from './state.js';
import { Templates } from './templates.js';
import type { Logger, Ownership } from './types.js';

const MAX_WARNINGS_PER_CYCLE = 20;
const RETRY_MIN_MS = 500;
const RETRY_MAX_MS = 30_000;
/**
 * Requests handed to the RouteSocket and not yet answered, at most (its window and a datagram): the rest
 * wait in the Fib's queue as entries, not as request objects (a million of those is 150 MB).
 */
export const MAX_SUBMITTED = DEFAULT_WINDOW + DEFAULT_BATCH;

/** What the window needs of its Fib. */
export interface WindowHost {
  readonly state: FibState;
  readonly own: Ownership;
  readonly log: Logger;
  readonly isClosed: boolean;
  readonly clock: Clock;
  /** Stale routes may be deleted (the RIB has converged). */
  readonly isConverged: boolean;
  /** A resynchronisation is running: nothing is sent meanwhile. */
  readonly resyncing: boolean;
  resync(reason: string): void;
  scheduleFlush(): void;
  onIdleCheck(): void;
}

export class RequestWindow implements BulkRequests {
  /** Submitted and not yet answered. */
  inflight = 0;
  /** Route requests the kernel refused since start (metrics: rack_agent_kernel_errors_total). */
  failures = 0;
  readonly ops = { add: 0, replace: 0, delete: 0 };
  private warnings = 0;
  private retryTimer: unknown;
  private retryAt = 0;
  private retryDelay = RETRY_MIN_MS;
  private readonly templates = new Templates();
  private readonly settle = (i: number, op: FibOp, err: NetlinkError | null): void =>
    this.settled(i, op.op, op.op === 'delete' ? undefined : op.signature, op.key, err);

  constructor(private readonly host: WindowHost) {}

  /** A complete dump starts a new cycle of refusal warnings. */
  newCycle(): void {
    this.warnings = 0;
  }

  /** Submits queued keys until the window is full (more once answers make room). */
  flush(socket: RouteSocket): void {
    const state = this.host.state;
    const converged = this.host.isConverged;
    // Entries queued from here on (requeued while in flight) wait for the next flush.
    const anyAliens = state.aliens.size > 0;
    const alienLengths = anyAliens ? alienLengths4(state) : null;
    for (let n = queued(state); n > 0 && this.inflight < MAX_SUBMITTED; n--) {
      const i = dequeue(state);
      if (i < 0) break;
      if ((state.flags[i] & INFLIGHT) !== 0) {
        enqueue(state, i); // looked at again when its request settles
        continue;
      }
      const inKernel = installed(state, i);
      // The key's text only where other protocols' routes may be (aliens are kept by it) or for
      // the diff below; the common add or replace of a key of ours alone makes no string.
      const lookUp = anyAliens && mayHaveAliens(state, i, alienLengths);
      const key = lookUp ? keyOf(state, i) : '';
      const aliens = lookUp ? state.aliens.get(key) : undefined;
      if (inKernel && aliens === undefined) {
        if (refusedOf(state, i)?.code === 'CONFLICT') setProblem(state, i, 'refused', null);
        continue;
      }
      const want = wantOf(state, i);
      if (aliens === undefined && want !== undefined) {
        // What diffState says for a key of ours alone: add when the kernel has nothing of ours
        // there, replace what differs (installed() was false); no conflict.
        if (refusedOf(state, i)?.code === 'CONFLICT') setProblem(state, i, 'refused', null);
        this.submitBulk(socket, i, kernelOf(state, i) === undefined ? OP_ADD : OP_REPLACE);
        continue;
      }
      // The shared route goes into the request as it is (ops.ts puts the prefix in when it encodes):
      // a request waits for the kernel's answer, long enough for V8 to promote what it holds.
      const keyText = lookUp ? key : keyOf(state, i);
      const wanted = want === undefined || aliens === undefined ? want : withPrefix(want, parseKey(keyText).prefix);
      const { op, conflict } = diffState(keyText, kernelOf(state, i), aliens, wanted, converged || (state.flags[i] & WITHDRAWN) !== 0);
      if (conflict !== null) setProblem(state, i, 'refused', conflict);
      else if (refusedOf(state, i)?.code === 'CONFLICT') setProblem(state, i, 'refused', null);
      if (op !== null) this.submit(socket, i, op);
      else forgetIfEmpty(state, i);
    }
  }

  /** Retries refused routes after `ms` (or the current backoff); a new route elsewhere calls it too. */
  retrySoon(ms = this.retryDelay): void {
    const state = this.host.state;
    if (state.troubled.size === 0 || this.host.isClosed) return;
    const clock = this.host.clock;
    const at = clock.now() + ms;
    if (this.retryTimer !== undefined && this.retryAt <= at) return;
    clock.clearTimeout(this.retryTimer);
    this.retryAt = at;
    this.retryTimer = clock.setTimeout(() => {
      this.retryTimer = undefined;
      let retried = 0;
      for (const i of state.troubled) {
        const refused = refusedOf(state, i);
        if (refused !== null && refused.code !== 'CONFLICT' && (state.flags[i] & INFLIGHT) === 0) {
          enqueue(state, i);
          retried++;
        }
      }
      if (retried === 0) {
        this.retryDelay = RETRY_MIN_MS;
        return;
      }
      this.retryDelay = Math.min(RETRY_MAX_MS, this.retryDelay * 2);
      this.host.scheduleFlush();
    }, ms);
  }

  close(): void {
    this.host.clock.clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
  }

  // ---- bulk requests (BulkRequests): i is the key's index --------------------------------------

  type(): number {
    return RTM.NEWROUTE;
  }

  flags(i: number): number {
    return NLM_F.CREATE | ((this.host.state.flags[i] & OP_BITS) === OP_ADD ? NLM_F.EXCL : NLM_F.REPLACE);
  }

  op(): NetlinkOp {
    return 'newroute';
  }

  write(i: number, buf: Buffer, at: number): number {
    const state = this.host.state;
    const want = state.shapes.get(state.sent[i]) as DesiredEntry;
    const len = state.keys.len[i];
    if (len >= 0) {
      // An IPv4 key at the default metric: the route's template for its length (templates.ts).
      return this.templates.write(want, len, state.keys.addr[i], this.host.own, buf, at);
    }
    // An interned route (shapes.ts) has no prefix: the key names it.
    const payload = encodeRoute(routeToMessage({ ...want.route, prefix: parseKey(keyOf(state, i)).prefix }, this.host.own));
    if (at + payload.length <= buf.length) payload.copy(buf, at);
    return payload.length;
  }

  done(i: number, err: NetlinkError | null): void {
    const state = this.host.state;
    const id = state.sent[i];
    const signature = (state.shapes.get(id) as DesiredEntry).signature;
    const op = (state.flags[i] & OP_BITS) === OP_ADD ? 'add' : 'replace';
    state.flags[i] &= ~OP_BITS;
    state.sent[i] = 0;
    this.settled(i, op, signature, null, err);
    state.shapes.unref(id);
  }

  /** The route it installs stays interned (referenced) until the answer. */
  private submitBulk(socket: RouteSocket, i: number, kind: number): void {
    const state = this.host.state;
    const id = state.want[i];
    state.shapes.ref(id);
    state.sent[i] = id;
    state.flags[i] = (state.flags[i] & ~OP_BITS) | kind | INFLIGHT;
    this.inflight++;
    socket.submitBulk(i);
  }

  private submit(socket: RouteSocket, i: number, op: FibOp): void {
    this.host.state.flags[i] |= INFLIGHT;
    this.inflight++;
    socket.submit(opRequest(op, i, this.host.own, this.settle));
  }

  /** One answer: `signature` is what an add or replace installed; `key` null for the key's own text. */
  private settled(i: number, op: FibOp['op'], signature: string | undefined, key: string | null, err: NetlinkError | null): void {
    const host = this.host;
    const state = host.state;
    state.flags[i] &= ~INFLIGHT;
    this.inflight--;
    if (err === null) {
      // Our own notifications are filtered out in the kernel: the answer is how we learn the result.
      setKernel(state, i, signature);
      this.ops[op]++;
      if (state.refusals.has(i)) setProblem(state, i, 'refused', null);
    } else {
      switch (failureOf(op, err)) {
        case 'again': // the overflow handler resynchronises; then this key is looked at again
          enqueue(state, i);
          break;
        case 'taken': // someone holds the key; notifications are read before answers, so we know who
          if (state.kernel[i] === 0 && !state.aliens.has(key ?? keyOf(state, i))) host.resync('EEXIST on an empty key');
          enqueue(state, i);
          break;
        case 'gone':
          setKernel(state, i, undefined);
          break;
        case 'refused': {
          const prefix = parseKey(key ?? keyOf(state, i)).prefix;
          this.failures++;
          setProblem(state, i, 'refused', { prefix, code: err.code, message: err.message });
          const log = this.warnings++ < MAX_WARNINGS_PER_CYCLE ? host.log.warn : host.log.debug;
          log.call(host.log, `kernel refused to ${op} a route`, { prefix, code: err.code, extack: err.extack });
          this.retrySoon();
        }
      }
    }
    if ((state.flags[i] & RACED) !== 0) {
      state.flags[i] &= ~RACED;
      host.resync('a route of ours changed by someone else while we changed it');
    }
    const isQueued = (state.flags[i] & QUEUED) !== 0;
    if (isQueued || (queued(state) > 0 && this.inflight < MAX_SUBMITTED / 2)) host.scheduleFlush();
    if (!isQueued) {
      forgetIfEmpty(state, i);
      host.onIdleCheck();
    }
  }
}
