// The import direction of ../shared/DESIGN.md ("Parts"), checked in CI (`npm run lint:deps`):
//   http, cli, console, wiring, main  →  tasks, grants  →  tokens, policy, identity, vault, revocation, audit
//   →  db, config  →  shared.   Nothing below imports from above; dev code is reached only lazily.
const LAYERS = {
  entry: '^server/(http|cli|console|wiring|main\\.ts)',
  domain: '^server/(tasks|grants)/',
  capability: '^server/(tokens|policy|identity|vault|revocation|audit)/',
  base: '^server/(db|config)/',
  shared: '^server/shared/',
};

const below = (from, to, comment) => ({
  name: `no-${from}-to-${to}`,
  comment,
  severity: 'error',
  from: { path: LAYERS[from] },
  to: { path: LAYERS[to], dependencyTypesNot: ['type-only'] },
});

module.exports = {
  forbidden: [
    below('domain', 'entry', 'tasks and grants never import express, the CLI or the composition root'),
    below('capability', 'entry', 'capabilities never import http, cli or wiring'),
    below('capability', 'domain', 'capabilities (revocation, audit, vault, …) never import the domains above them'),
    below('base', 'entry', 'db and config are the bottom layer'),
    below('base', 'domain', 'db and config are the bottom layer'),
    below('base', 'capability', 'db and config are the bottom layer'),
    below('shared', 'entry', 'shared/ depends on nothing of ours'),
    below('shared', 'domain', 'shared/ depends on nothing of ours'),
    below('shared', 'capability', 'shared/ depends on nothing of ours'),
    below('shared', 'base', 'shared/ depends on nothing of ours'),
    {
      name: 'leaves-stay-leaves',
      comment: 'policy and audit are leaves (STYLE.md): they use db, config and shared only',
      severity: 'error',
      from: { path: '^server/(policy|audit)/' },
      to: {
        path: '^server/(tokens|identity|vault|revocation|policy|audit)/',
        pathNot: '^server/$1/',
        dependencyTypesNot: ['type-only'],
      },
    },
    {
      name: 'no-production-to-dev',
      comment:
        'server/dev is loaded lazily (dynamic import) and only from the wiring and the CLI commands; ' +
        'the production image does not contain it',
      severity: 'error',
      from: { path: '^server/', pathNot: '^server/dev/' },
      to: { path: '^server/dev/', dependencyTypesNot: ['type-only', 'dynamic-import'] },
    },
    {
      name: 'dev-only-through-the-wiring',
      comment: 'only server/wiring/dev-defaults.ts and the CLI commands may load dev code',
      severity: 'error',
      from: { path: '^server/', pathNot: '^server/(dev/|wiring/dev-defaults\\.ts|cli/)' },
      to: { path: '^server/dev/', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'no-other-domains-repository',
      comment: "a domain asks another domain's module, never its repository (the only writer of its tables)",
      severity: 'error',
      from: { path: '^server/([^/]+)/' },
      to: { path: '^server/([^/]+)/.*\\.repository\\.ts$', pathNot: '^server/$1/' },
    },
    {
      name: 'no-circular',
      severity: 'error',
      from: { path: '^server/' },
      to: { circular: true, dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'no-test-code-in-server',
      severity: 'error',
      from: { path: '^(server|migrations)/' },
      to: { path: '^test/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    includeOnly: '^(server|migrations|test)/',
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js', '.json'] },
  },
};
