/**
 * `@regwatch/outbound`: the one way regwatch talks to other hosts (feeds, webhooks), with the
 * SSRF guard, size caps and deadlines built in.
 */

export type { LookupFunction } from 'node:net';
export { type AddressPolicy, createAddressPolicy, parseAllowNets } from './address-policy.js';
export {
  createOutboundError,
  isOutboundError,
  OutboundError,
  type OutboundErrorCode,
  type OutboundPermanentCode,
  OutboundPermanentError,
  type OutboundRetryableCode,
  OutboundRetryableError,
} from './errors.js';
export { DEFAULT_USER_AGENT, type OutboundRequest, type OutboundResponse, request } from './request.js';
