import { InvalidRequest, Unauthenticated } from '../shared/errors';

/** Why a string is not a SPIFFE ID. Stable values: tests and callers switch on them. */
export type SpiffeIdProblem =
  | 'empty'
  | 'too_long'
  | 'wrong_scheme'
  | 'missing_trust_domain'
  | 'trust_domain_too_long'
  | 'trust_domain_uppercase'
  | 'userinfo'
  | 'port'
  | 'query'
  | 'fragment'
  | 'percent_encoding'
  | 'bad_trust_domain_char'
  | 'bad_path_char'
  | 'empty_segment'
  | 'dot_segment'
  | 'trailing_slash'
  | 'unexpected_path'
  | 'missing_path';

const MESSAGES: Record<SpiffeIdProblem, string> = {
  empty: 'a SPIFFE ID cannot be empty',
  too_long: 'a SPIFFE ID is at most 2048 bytes',
  wrong_scheme: "a SPIFFE ID starts with the literal 'spiffe://'",
  missing_trust_domain: 'the trust domain is missing',
  trust_domain_too_long: 'a trust domain is at most 255 bytes',
  trust_domain_uppercase: 'the trust domain must be lowercase',
  userinfo: 'a trust domain cannot carry userinfo',
  port: 'a trust domain cannot carry a port',
  query: 'a SPIFFE ID cannot have a query',
  fragment: 'a SPIFFE ID cannot have a fragment',
  percent_encoding: 'a SPIFFE ID cannot contain percent-encoding',
  bad_trust_domain_char:
    'trust domain characters are limited to lowercase letters, digits, dots, dashes and underscores',
  bad_path_char: 'path segment characters are limited to letters, digits, dots, dashes and underscores',
  empty_segment: 'the path cannot contain empty segments',
  dot_segment: "the path cannot contain '.' or '..' segments",
  trailing_slash: 'the path cannot end with a slash',
  unexpected_path: 'a trust domain name cannot have a path',
  missing_path: 'a workload SPIFFE ID needs a path',
};

/**
 * A string that is not a valid SPIFFE ID (SPIFFE-ID.md §2). A 400 if it escapes to HTTP (e.g. a bad
 * `to` in a delegation); the verifiers turn it into a 401. The message never echoes the input, so it
 * is safe in a `WWW-Authenticate` header.
 */
export class InvalidSpiffeId extends InvalidRequest {
  readonly problem: SpiffeIdProblem;
  constructor(problem: SpiffeIdProblem) {
    super(`invalid SPIFFE ID: ${MESSAGES[problem]}`, { problem });
    this.problem = problem;
  }
}

/** Identity configuration that cannot work; thrown at construction so a bad option fails start-up. */
export class IdentityConfigError extends Error {
  constructor(message: string) {
    super(`identity configuration: ${message}`);
    this.name = 'IdentityConfigError';
  }
}

/** A trust bundle document that cannot be used at all (as opposed to single entries that are ignored). */
export class BundleError extends Error {
  constructor(message: string, opts: { cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'BundleError';
  }
}

/** Stable reasons of a rejected credential (the `reason` of the 401 body and of the metric label). */
export type AuthFailureReason =
  | 'missing_credential'
  | 'malformed'
  | 'token_too_large'
  | 'alg_not_allowed'
  | 'bad_typ'
  | 'missing_kid'
  | 'unknown_kid'
  | 'invalid_spiffe_id'
  | 'unknown_trust_domain'
  | 'bad_signature'
  | 'expired'
  | 'not_yet_valid'
  | 'missing_exp'
  | 'missing_aud'
  | 'wrong_audience'
  | 'multiple_audiences'
  | 'lifetime_too_long'
  | 'cert_malformed'
  | 'cert_chain_too_long'
  | 'cert_no_uri_san'
  | 'cert_multiple_uri_sans'
  | 'cert_invalid_spiffe_id'
  | 'cert_leaf_is_ca'
  | 'cert_key_usage'
  | 'cert_unknown_trust_domain'
  | 'cert_untrusted_chain'
  | 'cert_intermediate_key_usage'
  | 'cert_path_length'
  | 'cert_expired'
  | 'cert_not_yet_valid';

/** A 401 with a stable reason. Messages are fixed sentences: they never echo the credential. */
export const authFailure = (reason: AuthFailureReason, message: string): Unauthenticated =>
  new Unauthenticated(message, reason);
