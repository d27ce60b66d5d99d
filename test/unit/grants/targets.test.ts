import {
  audClaim,
  exchangeAudiences,
  requestedAudiences,
  requireTaskAudiences,
} from '../../../server/grants/issue/targets';
import { InvalidRequest, InvalidTarget } from '../../../server/shared/errors';

const ORDERS = 'https://orders.example/mcp';
const BILLING = 'https://billing.example/mcp';

describe('where a grant\u2019s token may be used (RFC 8707)', () => {
  test('when a request names resources, then each must be an absolute URI without a fragment, kept once in order', () => {
    expect(requestedAudiences({ resource: [BILLING, ORDERS, BILLING] })).toEqual([BILLING, ORDERS]);
    expect(requestedAudiences({ resource: ['urn:example:orders'] })).toEqual(['urn:example:orders']);
    expect(requestedAudiences({ audience: 'orders-api' })).toEqual(['orders-api']);
    for (const bad of ['orders-api', '/mcp', `${ORDERS}#tools`, 'https://'])
      expect(() => requestedAudiences({ resource: [bad] })).toThrow(InvalidTarget);
    expect(() => requestedAudiences({})).toThrow(InvalidRequest);
  });

  test('when an audience is not among the task\u2019s, then it is invalid_target naming it', () => {
    expect(() => requireTaskAudiences({ audiences: [ORDERS] }, [ORDERS])).not.toThrow();
    expect(() => requireTaskAudiences({ audiences: [ORDERS] }, [ORDERS, BILLING])).toThrow(
      new InvalidTarget(`the audience ${BILLING} is not among the task's audiences`),
    );
  });

  test('when a token exchange names audiences or resources, then the child gets them only within its parent\u2019s', () => {
    const parent = { audiences: [ORDERS, BILLING, 'orders-api'] };
    expect(exchangeAudiences({}, parent)).toEqual(parent.audiences);
    expect(exchangeAudiences({ resource: BILLING }, parent)).toEqual([BILLING]);
    expect(exchangeAudiences({ audience: 'orders-api', resource: [ORDERS, ORDERS] }, parent)).toEqual([
      'orders-api',
      ORDERS,
    ]);
    expect(() => exchangeAudiences({ resource: 'https://elsewhere.example/mcp' }, parent)).toThrow(
      InvalidTarget,
    );
    expect(() => exchangeAudiences({ audience: 'other-api' }, parent)).toThrow(InvalidTarget);
    expect(() => exchangeAudiences({ resource: 'not a uri' }, parent)).toThrow(InvalidTarget);
  });

  test('when there is one audience, then aud is a string; several, an array (RFC 7519 §4.1.3)', () => {
    expect(audClaim([ORDERS])).toBe(ORDERS);
    expect(audClaim([ORDERS, BILLING])).toEqual([ORDERS, BILLING]);
  });
});
