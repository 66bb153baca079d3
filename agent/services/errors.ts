/**
 * ServiceError: the one error type of the anycast services room (STYLE.md "Errors"), with a
 * stable string `code`. A failing health check is not an error (it is a CheckResult with ok
 * false); these are mistakes of the caller.
 */

import { CodedError } from '../contracts/coded-error.js';

export type ServiceErrorCode =
  | 'SERVICE_BAD_CHECK'     // a check kind the checkers do not know
  | 'SERVICE_BAD_COMMUNITY'; // a community the config layer should have refused

export class ServiceError extends CodedError<ServiceErrorCode> {}
