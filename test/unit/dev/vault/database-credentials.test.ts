import {
  formatExpiration,
  generatePassword,
  generateUsername,
  renderStatement,
  roleAllowed,
} from '../../../../server/dev/vault/database-credentials';
import { renderConnectionUrl } from '../../../../server/dev/vault/database-sql';

const NOW = Date.UTC(2026, 10, 24, 12, 0, 0);

describe('database credentials (spec §4)', () => {
  it('when a username is generated, then it follows v-<display 8>-<role 8>-<20 random>-<unix>', () => {
    const name = generateUsername('token-broker', 'readonly-role', NOW);
    expect(name).toMatch(new RegExp(`^v-token-br-readonly-[A-Za-z0-9]{20}-${NOW / 1000}$`));
  });

  it('when the parts are long, then the username is truncated to 63 characters', () => {
    expect(generateUsername('x'.repeat(40), 'y'.repeat(40), NOW).length).toBeLessThanOrEqual(63);
  });

  it('when passwords are generated, then each is 20 chars with upper, lower, digit and dash', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 200; i += 1) {
      const p = generatePassword();
      expect(p).toMatch(/^[A-Za-z0-9-]{20}$/);
      expect(p).toMatch(/[a-z]/);
      expect(p).toMatch(/[A-Z]/);
      expect(p).toMatch(/[0-9]/);
      expect(p).toContain('-');
      seen.add(p);
    }
    expect(seen.size).toBe(200);
  });

  it('when statements are rendered, then name, username, password and expiration are filled in', () => {
    const sql = renderStatement(
      `CREATE ROLE "{{name}}" PASSWORD '{{password}}' VALID UNTIL '{{ expiration }}'; -- {{username}}`,
      {
        name: 'v-a',
        password: 'pw',
        expiration: formatExpiration(NOW),
      },
    );
    expect(sql).toBe(`CREATE ROLE "v-a" PASSWORD 'pw' VALID UNTIL '2026-11-24 12:00:00+0000'; -- v-a`);
    expect(renderStatement('DROP ROLE "{{name}}" {{password}}', { name: 'v-b' })).toBe(
      'DROP ROLE "v-b" {{password}}',
    );
  });

  it('when allowed_roles has globs, then they match like Vault StrListContainsGlob', () => {
    expect(roleAllowed(['*'], 'any')).toBe(true);
    expect(roleAllowed(['ro-*'], 'ro-orders')).toBe(true);
    expect(roleAllowed(['ro-*'], 'rw-orders')).toBe(false);
    expect(roleAllowed([], 'any')).toBe(false);
    expect(roleAllowed(['a.b'], 'axb')).toBe(false);
  });

  it('when the connection URL is templated or hostless, then credentials and the fallback host are filled in', () => {
    const url = renderConnectionUrl('postgresql://{{username}}:{{password}}@db:5432/app', 'us@r', 'p/w');
    expect(url).toBe('postgresql://us%40r:p%2Fw@db:5432/app');
    const fallback = 'postgres://postgres@127.0.0.1:5433/grantline';
    expect(renderConnectionUrl('postgresql://{{username}}:{{password}}@/app', 'u', 'p', fallback)).toBe(
      'postgresql://u:p@127.0.0.1:5433/app',
    );
    expect(renderConnectionUrl('postgresql:///', '', '', fallback)).toBe(
      'postgresql://127.0.0.1:5433/grantline',
    );
    expect(renderConnectionUrl('', 'u', 'p', fallback)).toBe('postgres://u:p@127.0.0.1:5433/grantline');
  });
});
