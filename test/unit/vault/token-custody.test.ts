import { grantNeedsCustody } from '../../../server/vault';

describe('which grant tokens are kept in custody', () => {
  test.each([
    [{ depth: 0, mayRedelegate: true }, 3, true],
    [{ depth: 2, mayRedelegate: true }, 3, true],
    [{ depth: 3, mayRedelegate: true }, 3, false],
    [{ depth: 0, mayRedelegate: true }, 0, false],
    [{ depth: 0, mayRedelegate: false }, 3, false],
  ])('when a grant is %o in a task with max_depth %i, then custody is %s', (grant, maxDepth, kept) => {
    expect(grantNeedsCustody(grant, maxDepth)).toBe(kept);
  });
});
