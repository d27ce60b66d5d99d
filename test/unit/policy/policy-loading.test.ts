import { readdirSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import { loadPolicyEngine, PolicyLoadError } from '../../../server/policy';
import { copyPolicyDir, POLICY_DIR, silentLogger } from './policy-fixtures';

const load = (dir: string) => loadPolicyEngine({ dir, logger: silentLogger });

/** Loads `dir` expecting a PolicyLoadError and returns it. */
function loadError(dir: string): PolicyLoadError {
  try {
    load(dir);
  } catch (err) {
    expect(err).toBeInstanceOf(PolicyLoadError);
    return err as PolicyLoadError;
  }
  throw new Error('expected the policies to be refused');
}

let policies: ReturnType<typeof copyPolicyDir>;
beforeEach(() => {
  policies = copyPolicyDir();
});
afterEach(() => policies.dispose());

describe('loading the shipped policies', () => {
  test('when config/policies is loaded, then the version is a short sha256 digest', () => {
    expect(load(POLICY_DIR).version).toMatch(/^sha256:[0-9a-f]{16}$/);
  });

  test('when the same files are loaded twice, then the version is the same', () => {
    expect(load(policies.dir).version).toBe(load(POLICY_DIR).version);
  });
});

describe('refusing broken policies at start-up', () => {
  test('when a policy does not parse, then PolicyLoadError carries the file, the position and Cedar message', () => {
    policies.write(
      'broken.cedar',
      '@id("broken")\npermit (principal, action, resource) when { principal.path like };\n',
    );
    const err = loadError(policies.dir);
    expect(err.message).toMatch(/^cannot parse broken\.cedar: broken\.cedar:2:\d+: /);
    expect(err.message).toContain('unexpected token');
    expect(err).toBeInstanceOf(PolicyLoadError);
    expect(err.code).toBe('server_error');
  });

  test('when a policy reads an attribute the schema lacks, then PolicyLoadError carries Cedar validation message', () => {
    policies.write(
      'typo.cedar',
      '@id("typo")\npermit (principal, action == Action::"OpenTask", resource)\nwhen { principal.paths like "/x/*" };\n',
    );
    const err = loadError(policies.dir);
    expect(err.message).toContain('policies violate the schema');
    expect(err.message).toContain('typo.cedar:3:');
    expect(err.message).toContain('attribute `paths` on entity type `Workload` not found');
    expect(err.message).toContain('did you mean `path`?');
  });

  test('when a policy names an action the schema lacks, then PolicyLoadError', () => {
    policies.write(
      'unknown-action.cedar',
      '@id("unknown-action")\npermit (principal, action == Action::"DeleteTask", resource);\n',
    );
    expect(loadError(policies.dir).message).toContain('DeleteTask');
  });

  test('when a policy compares a Long with a String, then PolicyLoadError', () => {
    policies.write(
      'types.cedar',
      '@id("types")\nforbid (principal, action == Action::"RequestGrant", resource is Scope)\nwhen { context.task.risk_score > "70" };\n',
    );
    expect(loadError(policies.dir).message).toContain('policies violate the schema');
  });

  test('when a shadow policy violates the schema, then PolicyLoadError too', () => {
    policies.write(
      'shadow/bad.cedar',
      '@id("shadow-bad")\nforbid (principal, action, resource) when { context.nope };\n',
    );
    expect(loadError(policies.dir).message).toContain('shadow/bad.cedar');
  });

  test('when a policy has no @id annotation, then PolicyLoadError names the file and line', () => {
    policies.write(
      'anonymous.cedar',
      '// no id\n\npermit (principal, action == Action::"OpenTask", resource);\n',
    );
    expect(loadError(policies.dir).message).toMatch(/^anonymous\.cedar:3:1: every policy needs an @id/);
  });

  test('when two policies share an id, then PolicyLoadError names both files', () => {
    policies.write(
      'copy.cedar',
      '@id("auditor-read")\npermit (principal, action == Action::"ReadAudit", resource);\n',
    );
    expect(loadError(policies.dir).message).toBe(
      'duplicate policy id "auditor-read" in auditor-read.cedar and copy.cedar',
    );
  });

  test('when the schema does not parse, then PolicyLoadError carries Cedar message', () => {
    policies.write('grantline.cedarschema', 'entity Workload = { path: Strin };');
    const err = loadError(policies.dir);
    expect(err.message).toMatch(/^invalid schema grantline\.cedarschema: /);
  });

  test('when there is no schema, then PolicyLoadError', () => {
    rmSync(path.join(policies.dir, 'grantline.cedarschema'));
    expect(loadError(policies.dir).message).toContain('expected exactly one of grantline.cedarschema');
  });

  test('when the directory holds no policy, then PolicyLoadError rather than a deny-everything broker', () => {
    for (const file of readdirSync(policies.dir).filter((name) => name.endsWith('.cedar'))) {
      rmSync(path.join(policies.dir, file));
    }
    expect(loadError(policies.dir).message).toMatch(/^no \*\.cedar policy files in /);
  });

  test('when the directory does not exist, then PolicyLoadError', () => {
    expect(loadError(path.join(policies.dir, 'missing')).message).toContain('cannot read policy directory');
  });
});

describe('policy version', () => {
  test('when an enforced policy changes, then the version changes', () => {
    const before = load(policies.dir).version;
    policies.write(
      'auditor-read.cedar',
      '@id("auditor-read")\npermit (principal, action == Action::"ReadAudit", resource);\n',
    );
    expect(load(policies.dir).version).not.toBe(before);
  });

  test('when a shadow policy is added, then the version changes', () => {
    const before = load(policies.dir).version;
    policies.write(
      'shadow/extra.cedar',
      '@id("shadow-extra")\nforbid (principal, action == Action::"ReadAudit", resource);\n',
    );
    expect(load(policies.dir).version).not.toBe(before);
  });

  test('when a file is renamed without changing its text, then the version changes', () => {
    const before = load(policies.dir).version;
    renameSync(
      path.join(policies.dir, 'auditor-read.cedar'),
      path.join(policies.dir, 'zz-auditor-read.cedar'),
    );
    expect(load(policies.dir).version).not.toBe(before);
  });
});
