/**
 * A shared update (contracts SharedUpdate: the same UPDATEs for every member of an update group)
 * packed once for all members with the same encode context, lazily, a block at a time: a block is
 * the UPDATE messages of about SLICE_PREFIXES prefixes, laid end to end in one buffer, with the
 * byte ranges ("cuts") of the parts that are not for everyone (`except` a member: its own routes;
 * `only` one member). A member's transmitter writes a block as it is, or the pieces between the
 * cuts it must skip: one or two writes of a shared buffer, never a copy per member. Encoding order
 * is the item's part order, and within a part pack.ts's (withdrawals first, RFC 4271 section 9.2).
 * The packing lives as long as the item: a member that lags behind keeps the blocks it has not
 * written yet, and never holds the others back.
 * Not here: slicing per budget and the socket (transmit.ts), what the parts hold (agent/rib).
 */

import { contextKey, type CodecContext } from '../bgp/context.js';
import { packUpdates, type PackInput, type RouteGroup } from '../bgp/pack.js';
import type { OutboundPart, SharedUpdate } from '../contracts/engines.js';

/** Prefixes per block (and per slice of an unshared update): one encodes in well under a millisecond. */
export const SLICE_PREFIXES = 2048;

/** Cuts one PackInput into several of at most `size` prefixes each, keeping the order. */
export function sliceOutbound(input: PackInput, size = SLICE_PREFIXES): PackInput[] {
  const out: PackInput[] = [];
  const withdraw = input.withdraw ?? [];
  for (let i = 0; i < withdraw.length; i += size) out.push({ withdraw: withdraw.slice(i, i + size) });
  for (const group of input.announce ?? []) {
    for (let i = 0; i < group.prefixes.length; i += size) {
      const part: RouteGroup = { attributes: group.attributes, prefixes: group.prefixes.slice(i, i + size) };
      out.push({ announce: [part] });
    }
  }
  return out;
}

function prefixCount(input: PackInput): number {
  let n = input.withdraw?.length ?? 0;
  for (const g of input.announce ?? []) n += g.prefixes.length;
  return n;
}

/** A byte range of a block that only some members are sent. */
export interface Cut {
  readonly start: number;
  readonly end: number;
  readonly messages: number;
  readonly except?: string;
  readonly only?: string;
}

export interface Block {
  readonly bytes: Uint8Array;
  readonly messages: number;
  /** Cuts by the member they skip (`except`), and the `only` cuts (skipped by all but one). */
  readonly except: ReadonlyMap<string, readonly Cut[]>;
  readonly only: readonly Cut[];
  /** Encoding failures of this block's slices (they are left out); taken by the first member to report them. */
  readonly errors: unknown[];
}

/** The cuts member `key` skips in `block`, in byte order. */
export function skippedBy(block: Block, key: string): Cut[] {
  const own = block.except.get(key) ?? [];
  if (block.only.length === 0) return own.length === 0 ? [] : [...own];
  const out = [...own, ...block.only.filter((c) => c.only !== key)];
  return out.sort((a, b) => a.start - b.start);
}

export class SharedPacking {
  readonly blocks: Block[] = [];
  private readonly slices: { readonly part: OutboundPart; readonly input: PackInput }[] = [];
  private next = 0;

  constructor(item: SharedUpdate, private readonly ctx: CodecContext, private readonly blockPrefixes = SLICE_PREFIXES) {
    for (const part of item.parts) for (const input of sliceOutbound(part.update, blockPrefixes)) this.slices.push({ part, input });
  }

  /** Every block is encoded. */
  get complete(): boolean {
    return this.next >= this.slices.length;
  }

  /** Block `i`, encoding it now if it is the next one; undefined past the end. */
  block(i: number): Block | undefined {
    while (this.blocks.length <= i && !this.complete) this.encodeNext();
    return this.blocks[i];
  }

  private encodeNext(): void {
    const chunks: Uint8Array[] = [];
    const except = new Map<string, Cut[]>();
    const only: Cut[] = [];
    const errors: unknown[] = [];
    let length = 0;
    let messages = 0;
    let prefixes = 0;
    while (this.next < this.slices.length && prefixes < this.blockPrefixes) {
      const { part, input } = this.slices[this.next++];
      prefixes += prefixCount(input);
      let encoded: Uint8Array[] = [];
      try {
        encoded = packUpdates(input, this.ctx);
      } catch (err) {
        errors.push(err);
      }
      if (encoded.length === 0) continue;
      const start = length;
      for (const m of encoded) {
        chunks.push(m);
        length += m.length;
      }
      messages += encoded.length;
      if (part.except !== undefined) addCut(except.get(part.except) ?? except.set(part.except, []).get(part.except)!, start, length, encoded.length, part);
      else if (part.only !== undefined) addCut(only, start, length, encoded.length, part);
    }
    this.blocks.push({ bytes: chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, length), messages, except, only, errors });
  }
}

/** Appends a cut, merged with the last one when they touch and skip the same member. */
function addCut(list: Cut[], start: number, end: number, messages: number, part: OutboundPart): void {
  const last = list[list.length - 1];
  if (last !== undefined && last.end === start && last.except === part.except && last.only === part.only) {
    list[list.length - 1] = { ...last, end, messages: last.messages + messages };
    return;
  }
  list.push(part.except !== undefined ? { start, end, messages, except: part.except } : { start, end, messages, only: part.only });
}

/** One packing per item and encode context, shared by every transmitter that sends the item. */
const packings = new WeakMap<SharedUpdate, Map<string, SharedPacking>>();

export function packingOf(item: SharedUpdate, ctx: CodecContext): SharedPacking {
  let byContext = packings.get(item);
  if (byContext === undefined) packings.set(item, (byContext = new Map()));
  const key = contextKey(ctx);
  let p = byContext.get(key);
  if (p === undefined) byContext.set(key, (p = new SharedPacking(item, ctx)));
  return p;
}
