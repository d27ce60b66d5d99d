/**
 * Grantline's recommended statements for a Vault/OpenBao PostgreSQL database role (README: "Vault
 * set-up"). Vault runs a role's revocation statements in ONE transaction, so a plain sequence would let
 * the holder keep its login: with `ALTER DEFAULT PRIVILEGES … TO PUBLIC` (no privilege needed) it makes
 * `DROP ROLE` fail, and the rollback undoes `NOLOGIN` too. Here the cleanup runs in a block with its own
 * exception handler (a subtransaction): if it fails, only the cleanup is rolled back, the lockout commits,
 * Vault's revocation succeeds, and the broker finishes the cleanup itself later. The broker also locks
 * the login out and ends its sessions on its own before asking Vault (revocation/database-lockout.ts).
 *
 * Each login is a member of a NOLOGIN group role that holds the privileges: granting to each login
 * directly races with concurrent GRANTs (`tuple concurrently updated`, hashicorp/vault#1857).
 */
export function recommendedRoleStatements(groupRole: string) {
  const group = `"${groupRole.replace(/"/g, '""')}"`;
  return {
    creation_statements: [
      `CREATE ROLE "{{name}}" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}' IN ROLE ${group};`,
    ],
    revocation_statements: [
      // The lockout: no login, no password, no validity, whatever the cleanup below does. The broker may
      // have locked out and dropped the role already (while Vault was down): a missing role is revoked.
      `DO $$ BEGIN
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{{name}}') THEN
    ALTER ROLE "{{name}}" NOLOGIN PASSWORD NULL VALID UNTIL '-infinity';
  END IF;
END $$;`,
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '{{name}}';`,
      `DO $$ BEGIN
  REASSIGN OWNED BY "{{name}}" TO CURRENT_USER;
  DROP OWNED BY "{{name}}";
  DROP ROLE "{{name}}";
EXCEPTION WHEN others THEN
  RAISE WARNING 'grantline: {{name}} is locked out; its cleanup is deferred: %', SQLERRM;
END $$;`,
    ],
    renew_statements: [`ALTER ROLE "{{name}}" VALID UNTIL '{{expiration}}';`],
  };
}
