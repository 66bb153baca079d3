/**
 * The RIB's one error type, with a stable string `code` (STYLE.md "Errors"): bad prefixes handed
 * to the RIB, a change asked for from inside a sink callback, selector syntax (with the position),
 * peer sets that cannot be built from the config.
 * Never thrown for anything a peer sends: peers' data is refused by policy, not by exceptions.
 */

import { CodedError } from '../contracts/coded-error.js';

export type RibErrorCode = 'RIB_BAD_PREFIX' | 'RIB_BUSY' | 'SELECTOR_SYNTAX' | 'PEER_SET_INVALID';

export class RibError extends CodedError<RibErrorCode> {
  constructor(
    code: RibErrorCode,
    message: string,
    /** SELECTOR_SYNTAX: the offset in the selector text; PEER_SET_INVALID: the config key. */
    readonly where?: number | string,
  ) {
    super(code, message);
  }
}
