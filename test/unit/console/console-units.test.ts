import { safeReturnTo } from '../../../server/console/auth.routes';
import { deriveConsoleKeys } from '../../../server/console/console-keys';
import { displayName, rolesFromClaims } from '../../../server/console/roles';
import { previewNamesSecret } from '../../../server/tasks/approval-request.schema';

describe('roles from ID-token claims', () => {
  const map = { approver: ['grantline-approvers'], auditor: ['grantline-auditors', 'security'] };

  test.each([
    [{ groups: ['grantline-approvers'] }, ['approver']],
    [{ groups: ['security', 'grantline-approvers', 'other'] }, ['approver', 'auditor']],
    [{ groups: 'security' }, ['auditor']],
    [{ groups: ['Grantline-Approvers'] }, []],
    [{ groups: [42, { role: 'grantline-approvers' }] }, []],
    [{ roles: ['grantline-approvers'] }, []],
    [{}, []],
  ])('when the claim is %j, then the roles are %j', (claims, roles) => {
    expect(rolesFromClaims(claims, 'groups', map)).toEqual(roles);
  });

  test('when the provider gives a name, an email or only a subject, then the display name follows that order', () => {
    expect(displayName({ name: 'Alice', email: 'a@x' }, 'sub-1')).toBe('Alice');
    expect(displayName({ email: 'a@x' }, 'sub-1')).toBe('a@x');
    expect(displayName({ name: '' }, 'sub-1')).toBe('sub-1');
  });
});

describe('where sign-in may return to', () => {
  test.each([
    ['/console/tasks/123', '/console/tasks/123'],
    ['/console/', '/console/'],
    ['https://evil.example/console', '/console/'],
    ['//evil.example/console', '/console/'],
    ['/console/../v1/tasks', '/console/'],
    ['/console?x=1', '/console/'],
    [undefined, '/console/'],
  ])('when return_to is %s, then %s', (value, expected) => {
    expect(safeReturnTo(value)).toBe(expected);
  });
});

describe('console keys', () => {
  test('when the key material is shorter than 32 bytes, then it is refused', () => {
    expect(() => deriveConsoleKeys(new Uint8Array(31))).toThrow(/at least 32 bytes/);
  });

  test('when keys are derived, then each use has its own key', () => {
    const keys = deriveConsoleKeys(new Uint8Array(48).fill(7));
    const hex = (k: Uint8Array) => Buffer.from(k).toString('hex');
    expect(new Set([hex(keys.session), hex(keys.login), hex(keys.devLink)]).size).toBe(3);
  });
});

describe('argument previews shown to approvers', () => {
  test.each([
    ['deploy --target prod --version 1.2.3', false],
    ['{"service": "orders", "replicas": 3}', false],
    ['{"token_count": 5}', false],
    ['deploy --password hunter2', true],
    ['{"api_key": "x"}', true],
    ["curl -H 'Authorization: Bearer x'", true],
    ['password=hunter2', true],
    ['client_secret = abc', true],
  ])('when the preview is %s, then names-a-secret is %s', (text, secret) => {
    expect(previewNamesSecret(text)).toBe(secret);
  });
});
