import * as cedar from '@cedar-policy/cedar-wasm/nodejs';
import type { Logger } from '../shared/logger';
import { describePosition, formatCedarError, type TextOrigin } from './cedar-error.formatter';
import { PolicyLoadError } from './policy.errors';
import type { PolicyFile, PolicySources } from './policy-files.loader';

/** Handles of the schema and policy sets that Cedar has parsed and cached (`preparse*`). */
export interface CompiledPolicySets {
  schemaName: string;
  enforcedSetId: string;
  /** Enforced and shadow policies together; null without shadow policies. */
  shadowSetId: string | null;
}

interface ParsedPolicy {
  id: string;
  text: string;
  origin: TextOrigin;
}

const POLICY_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/**
 * Parses every policy file, keys each policy by its `@id` annotation (so Cedar's answers name our ids),
 * validates all of them against the schema in strict mode and caches the parsed sets for evaluation.
 */
export function compilePolicySets(sources: PolicySources, logger: Logger): CompiledPolicySets {
  const schema = parseSchema(sources.schema);
  const enforced = sources.enforced.flatMap(splitPolicies);
  const shadow = sources.shadow.flatMap(splitPolicies);
  const all = [...enforced, ...shadow];
  assertUniqueIds(all);
  validatePolicies(schema, all, logger);
  const compiled: CompiledPolicySets = {
    schemaName: `grantline-schema-${sources.digest}`,
    enforcedSetId: `grantline-enforced-${sources.digest}`,
    shadowSetId: shadow.length > 0 ? `grantline-shadow-${sources.digest}` : null,
  };
  preparse(cedar.preparseSchema(compiled.schemaName, schema), 'schema');
  preparse(cedar.preparsePolicySet(compiled.enforcedSetId, toPolicySet(enforced)), 'enforced policies');
  if (compiled.shadowSetId) {
    preparse(cedar.preparsePolicySet(compiled.shadowSetId, toPolicySet(all)), 'shadow policies');
  }
  return compiled;
}

function parseSchema(file: PolicyFile): cedar.Schema {
  let schema: cedar.Schema = file.text;
  if (file.name.endsWith('.json')) {
    try {
      schema = JSON.parse(file.text) as cedar.SchemaJson<string>;
    } catch (err) {
      throw new PolicyLoadError(`${file.name}: ${(err as Error).message}`, { file: file.name });
    }
  }
  const answer = cedar.checkParseSchema(schema);
  if (answer.type === 'failure') {
    throwCedarErrors(`invalid schema ${file.name}`, answer.errors, {
      file: file.name,
      text: file.text,
      base: 0,
    });
  }
  return schema;
}

function splitPolicies(file: PolicyFile): ParsedPolicy[] {
  const whole: TextOrigin = { file: file.name, text: file.text, base: 0 };
  const parts = cedar.policySetTextToParts(file.text);
  if (parts.type === 'failure') throwCedarErrors(`cannot parse ${file.name}`, parts.errors, whole);
  if (parts.policy_templates.length > 0) {
    throw new PolicyLoadError(`${file.name}: policy templates are not supported`, { file: file.name });
  }
  let searchFrom = 0;
  return parts.policies.map((text) => {
    const found = file.text.indexOf(text, searchFrom);
    searchFrom = found < 0 ? searchFrom : found + text.length;
    const origin = { ...whole, base: Math.max(found, 0) };
    return { id: annotationId(text, origin), text, origin };
  });
}

function annotationId(text: string, origin: TextOrigin): string {
  const json = cedar.policyToJson(text);
  if (json.type === 'failure') throwCedarErrors(`cannot parse ${origin.file}`, json.errors, origin);
  const id = json.json.annotations?.id;
  if (id === undefined || !POLICY_ID.test(id)) {
    const rule = 'every policy needs an @id("…") annotation of letters, digits, ".", "_" or "-"';
    throw new PolicyLoadError(`${describePosition(origin)}: ${rule}`, { file: origin.file });
  }
  return id;
}

function assertUniqueIds(policies: ParsedPolicy[]): void {
  const seen = new Map<string, string>();
  for (const policy of policies) {
    const other = seen.get(policy.id);
    if (other !== undefined) {
      throw new PolicyLoadError(`duplicate policy id "${policy.id}" in ${other} and ${policy.origin.file}`, {
        file: policy.origin.file,
      });
    }
    seen.set(policy.id, policy.origin.file);
  }
}

function validatePolicies(schema: cedar.Schema, policies: ParsedPolicy[], logger: Logger): void {
  const answer = cedar.validate({
    schema,
    policies: toPolicySet(policies),
    validationSettings: { mode: 'strict' },
  });
  if (answer.type === 'failure') throwCedarErrors('policy validation failed', answer.errors);
  const byId = new Map(policies.map((p) => [p.id, p.origin]));
  const describe = (v: cedar.ValidationError) => formatCedarError(v.error, byId.get(v.policyId));
  if (answer.validationErrors.length > 0) {
    const messages = answer.validationErrors.map(describe);
    throw new PolicyLoadError(`policies violate the schema: ${messages.join(' | ')}`, {
      cedarErrors: messages,
    });
  }
  const warnings = [
    ...answer.validationWarnings.map(describe),
    ...answer.otherWarnings.map((w) => formatCedarError(w)),
  ];
  if (warnings.length > 0) logger.warn({ warnings }, 'cedar policy validation warnings');
}

function toPolicySet(policies: ParsedPolicy[]): cedar.PolicySet {
  return { staticPolicies: Object.fromEntries(policies.map((p) => [p.id, p.text])) };
}

function preparse(answer: cedar.CheckParseAnswer, what: string): void {
  if (answer.type === 'failure') throwCedarErrors(`cedar could not prepare the ${what}`, answer.errors);
}

function throwCedarErrors(prefix: string, errors: cedar.DetailedError[], origin?: TextOrigin): never {
  const messages = errors.map((e) => formatCedarError(e, origin));
  throw new PolicyLoadError(`${prefix}: ${messages.join(' | ')}`, {
    file: origin?.file,
    cedarErrors: messages,
  });
}
