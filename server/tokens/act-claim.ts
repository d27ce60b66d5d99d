import { InvalidAccessToken, InvalidTokenClaims } from './token.errors';

/** Deeper chains are refused both when minting and when reading: no real delegation tree gets there. */
export const MAX_ACT_DEPTH = 32;

/** RFC 8693 §4.1 actor claim. Only `sub` is written; readers ignore other members. */
export interface ActClaim {
  sub: string;
  act?: ActClaim;
}

/**
 * Builds the `act` claim from a chain of holders ordered root first, current holder last.
 * RFC 8693 §4.1: the outermost `act` is the current actor, earlier actors nest inside it, the least
 * recent deepest. So [A, B, C] becomes {sub: C, act: {sub: B, act: {sub: A}}}.
 */
export function actClaimFromChain(chain: readonly string[]): ActClaim {
  if (chain.length === 0) throw new InvalidTokenClaims('the actor chain is empty');
  if (chain.length > MAX_ACT_DEPTH) {
    throw new InvalidTokenClaims(`the actor chain is deeper than ${MAX_ACT_DEPTH}`);
  }
  let act: ActClaim | undefined;
  for (const sub of chain) {
    if (typeof sub !== 'string' || sub.length === 0) {
      throw new InvalidTokenClaims('every actor in the chain needs a non-empty subject');
    }
    act = act === undefined ? { sub } : { sub, act };
  }
  return act as ActClaim;
}

/**
 * Reads an `act` claim back into a chain ordered root first, current holder last. Walks iteratively
 * and stops at MAX_ACT_DEPTH, so a hostile nesting costs nothing. Throws InvalidAccessToken
 * (`invalid_claim`) on anything that is not a chain of objects with a non-empty string `sub`.
 */
export function chainFromActClaim(act: unknown): string[] {
  const newestFirst: string[] = [];
  let node: unknown = act;
  while (node !== undefined) {
    if (newestFirst.length === MAX_ACT_DEPTH) {
      throw new InvalidAccessToken('invalid_claim', `the act claim is nested deeper than ${MAX_ACT_DEPTH}`);
    }
    if (typeof node !== 'object' || node === null || Array.isArray(node)) {
      throw new InvalidAccessToken('invalid_claim', 'the act claim is not an object');
    }
    const { sub, act: inner } = node as { sub?: unknown; act?: unknown };
    if (typeof sub !== 'string' || sub.length === 0) {
      throw new InvalidAccessToken('invalid_claim', 'an act claim has no subject');
    }
    newestFirst.push(sub);
    node = inner;
  }
  if (newestFirst.length === 0) throw new InvalidAccessToken('missing_claim', 'the act claim is missing');
  return newestFirst.reverse();
}
