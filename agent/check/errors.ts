/**
 * CheckError: the one error type of `agentctl check`'s probes (STYLE.md "Errors"), with a stable
 * string `code`. The codec throws it for bytes that are not what it decodes; the prober for a
 * socket it cannot open or an address of the wrong family (raw-socket 1.8.1 sends an IPv6
 * address given to an IPv4 socket to 0.0.0.0 without a word, so we refuse it first).
 */

import { CodedError } from '../contracts/coded-error.js';

export type CheckErrorCode =
  | 'ICMP_TRUNCATED'      // fewer bytes than the header needs
  | 'ICMP_BAD_SIZE'       // an echo to encode smaller than its header and token, or above 65535
  | 'IP_NOT_IPV4'         // a raw IPv4 socket delivered something that is not an IPv4 header
  | 'FAMILY_MISMATCH'     // an address of one family for a socket of the other
  | 'NO_CAP_NET_RAW'      // socket(AF_INET, SOCK_RAW, ...) answered EPERM
  | 'SOCKET_FAILED';      // any other failure opening or configuring the raw socket

export class CheckError extends CodedError<CheckErrorCode> {}
