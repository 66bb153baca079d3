/**
 * One dump in progress (NLM_F_DUMP): its answer messages until NLMSG_DONE, NLM_F_DUMP_INTR noted,
 * an NLMSG_ERROR or a negative NLMSG_DONE status as the error, and a consumer that throws failing
 * the dump only once the kernel has finished sending it (the socket is never left mid-dump).
 */
import { NLMSG, NLM_F } from './constants.js';
import { NetlinkError } from './errors.js';
import { decodeError, type NlMessage } from './message.js';

export interface DumpResult {
  /** NLM_F_DUMP_INTR: the table changed while it was dumped; entries may be missing or doubled. */
  readonly interrupted: boolean;
}

export interface DumpJob {
  readonly kind: 'dump';
  readonly type: number;
  readonly payload: Buffer;
  readonly onMessage: (msg: NlMessage) => void;
  readonly resolve: (result: DumpResult) => void;
  readonly reject: (err: NetlinkError) => void;
  seq: number;
  interrupted: boolean;
  /** The consumer threw: the dump is read to its end, then fails with this. */
  failed: NetlinkError | null;
}


/** Feeds one answer message to the dump; returns its outcome when it is over, else null. */
export function dumpMessage(job: DumpJob, msg: NlMessage): DumpResult | NetlinkError | null {
  if ((msg.flags & NLM_F.DUMP_INTR) !== 0) job.interrupted = true;
  if (msg.type === NLMSG.DONE) {
    const status = msg.payload.length >= 4 ? msg.payload.readInt32LE(0) : 0;
    if (status < 0) return NetlinkError.fromKernel('dump', status);
    return job.failed ?? { interrupted: job.interrupted };
  }
  if (msg.type === NLMSG.ERROR) {
    try {
      const e = decodeError(msg);
      return NetlinkError.fromKernel('dump', e.error, e.message || undefined);
    } catch (err) {
      return err as NetlinkError;
    }
  }
  if (job.failed !== null) return null;
  try {
    job.onMessage(msg);
  } catch (err) {
    job.failed = err instanceof NetlinkError ? err
      : new NetlinkError('decode', 'EPROTO', `dump consumer failed: ${String(err)}`, { cause: err });
  }
  return null;
}

/** Feeds one answer message to the dump; true when it is over (its promise resolved or rejected). */
export function feedDump(job: DumpJob, msg: NlMessage): boolean {
  const outcome = dumpMessage(job, msg);
  if (outcome === null) return false;
  if (outcome instanceof NetlinkError) job.reject(outcome);
  else job.resolve(outcome);
  return true;
}

/** The dump's answers were lost (err: ENOBUFS, a read error, or the socket closing). */
export function dumpLost(job: DumpJob, err: NetlinkError): void {
  job.reject(new NetlinkError('dump', err.code, `dump lost: ${err.message}`, { cause: err }));
}
