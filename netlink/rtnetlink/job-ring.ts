/**
 * The route socket's queue of jobs in submission order, as a ring: a bulk request (a number, the
 * owner's index) in a typed array, any other job (a request object, a dump) in a parallel array
 * at the same place. Queueing a bulk request allocates nothing (issue 21: the array of a million
 * queued numbers was regrown and compacted by copies all the way). Capacity is a power of two,
 * doubled when full. Plain data and functions.
 */
export interface JobRing<J> {
  nums: Int32Array;
  objs: (J | null)[];
  head: number;
  length: number;
}

const INITIAL = 1024;

export const emptyRing = <J>(): JobRing<J> => ({ nums: new Int32Array(INITIAL), objs: new Array<J | null>(INITIAL).fill(null), head: 0, length: 0 });

export function pushJob<J>(r: JobRing<J>, job: number | J): void {
  if (r.length === r.nums.length) grow(r);
  const at = (r.head + r.length) & (r.nums.length - 1);
  if (typeof job === 'number') {
    r.nums[at] = job;
    r.objs[at] = null;
  } else {
    r.objs[at] = job;
  }
  r.length++;
}

/** The next job, or undefined when empty (0 is a bulk request's number). */
export function peekJob<J>(r: JobRing<J>): number | J | undefined {
  if (r.length === 0) return undefined;
  const obj = r.objs[r.head];
  return obj === null ? r.nums[r.head] : obj;
}

/** Drops the next job (peekJob said what it was). */
export function dropJob<J>(r: JobRing<J>): void {
  if (r.length === 0) return;
  r.objs[r.head] = null; // a sent request object must not stay referenced
  r.head = (r.head + 1) & (r.nums.length - 1);
  r.length--;
}

/** Empties the ring; returns what it held, in order. */
export function takeAll<J>(r: JobRing<J>): (number | J)[] {
  const out: (number | J)[] = [];
  for (let job = peekJob(r); job !== undefined; job = peekJob(r)) {
    out.push(job);
    dropJob(r);
  }
  return out;
}

function grow<J>(r: JobRing<J>): void {
  const cap = r.nums.length;
  const nums = new Int32Array(cap * 2);
  const objs = new Array<J | null>(cap * 2).fill(null);
  for (let k = 0; k < r.length; k++) {
    const from = (r.head + k) & (cap - 1);
    nums[k] = r.nums[from];
    objs[k] = r.objs[from];
  }
  r.nums = nums;
  r.objs = objs;
  r.head = 0;
}
