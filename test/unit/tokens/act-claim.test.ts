import { actClaimFromChain, chainFromActClaim, MAX_ACT_DEPTH } from '../../../server/tokens/act-claim';
import { InvalidAccessToken, InvalidTokenClaims } from '../../../server/tokens/token.errors';

const A = 'spiffe://example.org/a';
const B = 'spiffe://example.org/b';
const C = 'spiffe://example.org/c';

describe('act claim helpers', () => {
  it('when a chain has one holder, then act is that holder', () => {
    expect(actClaimFromChain([A])).toEqual({ sub: A });
  });

  it('when a chain has two holders, then the current one is outermost', () => {
    expect(actClaimFromChain([A, B])).toEqual({ sub: B, act: { sub: A } });
  });

  it('when a chain is C ⟵ B ⟵ A, then C is outermost and A deepest', () => {
    expect(actClaimFromChain([A, B, C])).toEqual({ sub: C, act: { sub: B, act: { sub: A } } });
  });

  it('when act is read back, then the chain comes out root first, current last', () => {
    for (const chain of [[A], [A, B], [A, B, C]]) {
      expect(chainFromActClaim(actClaimFromChain(chain))).toEqual(chain);
    }
  });

  it('when act has extra members such as iss, then they are ignored', () => {
    expect(chainFromActClaim({ sub: B, iss: 'https://x', act: { sub: A, client_id: 'x' } })).toEqual([A, B]);
  });

  it('when a chain is exactly at the cap, then it is accepted both ways', () => {
    const chain = Array.from({ length: MAX_ACT_DEPTH }, (_, i) => `spiffe://example.org/${i}`);
    expect(chainFromActClaim(actClaimFromChain(chain))).toEqual(chain);
  });

  it('when a chain is empty, over the cap or has a blank holder, then building refuses', () => {
    const tooDeep = Array.from({ length: MAX_ACT_DEPTH + 1 }, (_, i) => `spiffe://example.org/${i}`);
    for (const chain of [[], tooDeep, [A, '']]) {
      expect(() => actClaimFromChain(chain)).toThrow(InvalidTokenClaims);
    }
  });

  it('when act is nested past the cap, then reading refuses', () => {
    let act: Record<string, unknown> = { sub: A };
    for (let i = 0; i < MAX_ACT_DEPTH; i += 1) act = { sub: B, act };
    expect(() => chainFromActClaim(act)).toThrow(InvalidAccessToken);
  });

  it.each([
    ['missing', undefined],
    ['null', null],
    ['a string', A],
    ['an array', [{ sub: A }]],
    ['without sub', { act: { sub: A } }],
    ['with an empty sub', { sub: '' }],
    ['with a numeric sub', { sub: 7 }],
    ['with a null inner act', { sub: B, act: null }],
  ])('when act is %s, then reading refuses with invalid_token', (_label, act) => {
    expect(() => chainFromActClaim(act)).toThrow(InvalidAccessToken);
  });
});
