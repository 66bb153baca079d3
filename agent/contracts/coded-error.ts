/**
 * The one shape of the project's typed errors (STYLE.md "Errors"): an Error with a stable string
 * `code` a caller can switch on, the class name as `name`, and an optional cause. Each engine
 * names its own codes (ControlErrorCode, CheckErrorCode, ...) and extends this with any fields of
 * its own (NetlinkError's errno and op, ConfigError's problems). BgpError is apart: its code is
 * the NOTIFICATION's number (RFC 4271 section 4.5).
 */

export class CodedError<C extends string = string> extends Error {
  override readonly name: string;
  readonly code: C;

  constructor(code: C, message: string, options?: { readonly cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
  }
}
