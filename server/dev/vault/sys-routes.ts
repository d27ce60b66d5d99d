import { randomBytes, randomUUID } from 'node:crypto';
import type { Clock } from '../../shared/clock';
import { ok, type Reply, raw } from './envelope';
import type { RequestContext, Route } from './route-types';
import { invalidRequest, VaultApiError } from './vault-error';

export const DEV_VAULT_VERSION = '1.17.0+grantline-dev';

const HEALTH_CODES = [
  'activecode',
  'standbycode',
  'drsecondarycode',
  'performancestandbycode',
  'sealedcode',
  'uninitcode',
] as const;

function healthCode(query: URLSearchParams, name: string, fallback: number): number {
  const v = query.get(name);
  if (v === null || v === '') return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 100 || n > 999)
    throw invalidRequest(`unable to parse ${name}: ${JSON.stringify(v)}`);
  return n;
}

export interface SysRouteDeps {
  clock: Clock;
  isSealed(): boolean;
  clusterId: string;
}

/** `GET|HEAD sys/health` (spec §6.1): unauthenticated, not wrapped in the envelope, status by state. */
function health(deps: SysRouteDeps) {
  return (ctx: RequestContext): Reply => {
    for (const name of HEALTH_CODES) healthCode(ctx.query, name, 200);
    const sealed = deps.isSealed();
    const status = sealed
      ? healthCode(ctx.query, 'sealedcode', 503)
      : healthCode(ctx.query, 'activecode', 200);
    const body: Record<string, unknown> = {
      initialized: true,
      sealed,
      standby: false,
      replication_performance_mode: 'disabled',
      replication_dr_mode: 'disabled',
      server_time_utc: Math.floor(deps.clock.now().getTime() / 1000),
      version: DEV_VAULT_VERSION,
    };
    if (!sealed) Object.assign(body, { cluster_name: 'grantline-dev-vault', cluster_id: deps.clusterId });
    return raw(status, body);
  };
}

interface MountSpec {
  path: string;
  type: string;
  description: string;
  options: Record<string, string> | null;
  local: boolean;
}

/** The dev server's mounts are fixed (spec §6.2, brief): KV v2 at secret/, PostgreSQL at database/. */
const MOUNTS: MountSpec[] = [
  {
    path: 'cubbyhole/',
    type: 'cubbyhole',
    description: 'per-token private secret storage',
    options: null,
    local: true,
  },
  {
    path: 'database/',
    type: 'database',
    description: '',
    options: {},
    local: false,
  },
  { path: 'identity/', type: 'identity', description: 'identity store', options: null, local: false },
  {
    path: 'secret/',
    type: 'kv',
    description: 'key/value secret storage',
    options: { version: '2' },
    local: false,
  },
  {
    path: 'sys/',
    type: 'system',
    description: 'system endpoints used for control, policy and debugging',
    options: null,
    local: false,
  },
];

const AUTH_MOUNTS: MountSpec[] = [
  { path: 'token/', type: 'token', description: 'token based credentials', options: null, local: false },
];

function mountTable(specs: MountSpec[], accessorPrefix: string): Record<string, unknown> {
  const table: Record<string, unknown> = {};
  for (const m of specs) {
    table[m.path] = {
      accessor: `${accessorPrefix}${m.type}_${randomBytes(4).toString('hex')}`,
      config: { default_lease_ttl: 0, force_no_cache: false, max_lease_ttl: 0 },
      description: m.description,
      external_entropy_access: false,
      local: m.local,
      options: m.options,
      plugin_version: '',
      running_plugin_version: '',
      running_sha256: '',
      seal_wrap: false,
      type: m.type,
      uuid: randomUUID(),
    };
  }
  return table;
}

/** Mount prefixes, for telling "unsupported path" (inside a mount) from "no handler for route". */
export const MOUNT_PREFIXES = ['auth/token/', ...MOUNTS.map((m) => m.path)];

export function createSysRoutes(deps: SysRouteDeps): Route[] {
  const mounts = mountTable(MOUNTS, '');
  const auths = mountTable(AUTH_MOUNTS, 'auth_');
  return [
    { pattern: /^sys\/health$/, unauthenticated: true, health: true, handlers: { read: health(deps) } },
    { pattern: /^sys\/mounts$/, handlers: { read: () => ok({ data: mounts, copyDataToTop: true }) } },
    {
      pattern: /^sys\/mounts\/(.+)$/,
      fields: [
        'type',
        'description',
        'config',
        'options',
        'local',
        'seal_wrap',
        'plugin_name',
        'plugin_version',
      ],
      handlers: {
        update: (ctx) => {
          const path = ctx.params[0]!.replace(/\/?$/, '/');
          if (mounts[path]) throw invalidRequest(`path is already in use at ${path}`);
          throw new VaultApiError(400, 'the dev vault has fixed mounts; it cannot mount new secrets engines');
        },
      },
    },
    { pattern: /^sys\/auth$/, handlers: { read: () => ok({ data: auths, copyDataToTop: true }) } },
  ];
}
