import type { DatabaseEngine, DbConfig, DbRole } from './database-engine';
import { listReply, noContent, ok, withWarnings } from './envelope';
import { callerOf, type RequestContext, type Route } from './route-types';
import { invalidRequest, notFound } from './vault-error';

const CONFIG_FIELDS = [
  'plugin_name',
  'plugin_version',
  'connection_url',
  'username',
  'password',
  'allowed_roles',
  'verify_connection',
  'max_open_connections',
  'max_idle_connections',
  'max_connection_lifetime',
  'username_template',
  'password_authentication',
  'password_policy',
  'root_rotation_statements',
  'disable_escaping',
] as const;

const ROLE_FIELDS = [
  'db_name',
  'creation_statements',
  'revocation_statements',
  'rollback_statements',
  'renew_statements',
  'default_ttl',
  'max_ttl',
  'credential_type',
  'credential_config',
] as const;

const PLUGIN = 'postgresql-database-plugin';

/** A password written into the URL instead of `{{password}}` is returned by reads; Vault warns about it. */
const LITERAL_PASSWORD = /^[a-z]+:\/\/[^/@]*:(?!\{\{)[^/@]+@/i;
const PASSWORD_IN_URL_WARNING =
  'Password found in connection_url, use a templated url to enable root rotation and prevent read access to password information.';

function configFrom(ctx: RequestContext, name: string, existing: DbConfig | undefined): DbConfig {
  const f = ctx.fields;
  const pluginName = f.string('plugin_name') ?? existing?.pluginName ?? '';
  if (pluginName === '') throw invalidRequest('empty plugin name');
  if (pluginName !== PLUGIN)
    throw invalidRequest(
      `error creating database object: invalid database version: plugin not found in the catalog: ${pluginName}`,
    );
  if (f.string('username_template'))
    throw invalidRequest('username_template is not supported by the dev vault');
  return {
    name,
    pluginName,
    connectionUrl: f.string('connection_url') ?? existing?.connectionUrl ?? '',
    username: f.string('username') ?? existing?.username ?? '',
    password: f.string('password') ?? existing?.password ?? '',
    allowedRoles: f.stringList('allowed_roles') ?? existing?.allowedRoles ?? [],
    verifyConnection: f.bool('verify_connection') ?? true,
    maxOpenConnections: Math.max(
      1,
      Math.min(f.int('max_open_connections') ?? existing?.maxOpenConnections ?? 4, 4),
    ),
  };
}

function roleFrom(ctx: RequestContext, name: string, existing: DbRole | undefined): DbRole {
  const f = ctx.fields;
  const role: DbRole = {
    name,
    dbName: f.string('db_name') ?? existing?.dbName ?? '',
    creationStatements: f.statements('creation_statements') ?? existing?.creationStatements ?? [],
    revocationStatements: f.statements('revocation_statements') ?? existing?.revocationStatements ?? [],
    rollbackStatements: f.statements('rollback_statements') ?? existing?.rollbackStatements ?? [],
    renewStatements: f.statements('renew_statements') ?? existing?.renewStatements ?? [],
    defaultTtl: f.duration('default_ttl') ?? existing?.defaultTtl ?? 0,
    maxTtl: f.duration('max_ttl') ?? existing?.maxTtl ?? 0,
  };
  if (role.dbName === '') throw invalidRequest('empty database name attribute');
  if (role.creationStatements.length === 0) throw invalidRequest('empty creation statements');
  if (role.maxTtl > 0 && role.defaultTtl > role.maxTtl)
    throw invalidRequest('ttl cannot be greater than max_ttl');
  return role;
}

const configData = (c: DbConfig): Record<string, unknown> => ({
  allowed_roles: c.allowedRoles,
  connection_details: {
    connection_url: c.connectionUrl,
    username: c.username,
    max_open_connections: c.maxOpenConnections,
  },
  password_policy: '',
  plugin_name: c.pluginName,
  plugin_version: '',
  root_credentials_rotate_statements: [],
  verify_connection: c.verifyConnection,
});

const roleData = (r: DbRole): Record<string, unknown> => ({
  db_name: r.dbName,
  creation_statements: r.creationStatements,
  revocation_statements: r.revocationStatements,
  rollback_statements: r.rollbackStatements,
  renew_statements: r.renewStatements,
  default_ttl: r.defaultTtl,
  max_ttl: r.maxTtl,
  credential_type: 'password',
});

function configRoutes(engine: DatabaseEngine): Route[] {
  const name = (ctx: RequestContext): string => ctx.params[0]!;
  return [
    { pattern: /^database\/config$/, handlers: { list: () => listReply([...engine.configs.keys()]) } },
    {
      pattern: /^database\/config\/([^/]+)$/,
      fields: CONFIG_FIELDS,
      exists: ([n]) => engine.configs.has(n!),
      handlers: {
        read: (ctx) => {
          const cfg = engine.configs.get(name(ctx));
          if (!cfg) throw notFound();
          return ok({ data: configData(cfg) });
        },
        update: async (ctx) => {
          const cfg = configFrom(ctx, name(ctx), engine.configs.get(name(ctx)));
          await engine.writeConfig(cfg);
          return withWarnings(
            noContent(),
            LITERAL_PASSWORD.test(cfg.connectionUrl) ? [PASSWORD_IN_URL_WARNING] : [],
          );
        },
        delete: async (ctx) => {
          await engine.deleteConfig(name(ctx));
          return noContent();
        },
      },
    },
  ];
}

function roleRoutes(engine: DatabaseEngine): Route[] {
  const name = (ctx: RequestContext): string => ctx.params[0]!;
  return [
    { pattern: /^database\/roles$/, handlers: { list: () => listReply([...engine.roles.keys()]) } },
    {
      pattern: /^database\/roles\/([^/]+)$/,
      fields: ROLE_FIELDS,
      exists: ([n]) => engine.roles.has(n!),
      handlers: {
        read: (ctx) => {
          const role = engine.roles.get(name(ctx));
          if (!role) throw notFound();
          return ok({ data: roleData(role) });
        },
        update: (ctx) => {
          engine.roles.set(name(ctx), roleFrom(ctx, name(ctx), engine.roles.get(name(ctx))));
          return noContent();
        },
        delete: (ctx) => {
          engine.roles.delete(name(ctx));
          return noContent();
        },
      },
    },
  ];
}

export function createDatabaseRoutes(engine: DatabaseEngine): Route[] {
  const creds: Route = {
    pattern: /^database\/creds\/([^/]+)$/,
    fields: [],
    handlers: {
      read: async (ctx) => {
        const issued = await engine.issueCredentials(ctx.params[0]!, callerOf(ctx));
        return ok({
          data: { username: issued.username, password: issued.password },
          lease: { id: issued.lease.id, renewable: true, duration: issued.ttl },
          warnings: issued.warnings,
        });
      },
    },
  };
  return [...configRoutes(engine), ...roleRoutes(engine), creds];
}
