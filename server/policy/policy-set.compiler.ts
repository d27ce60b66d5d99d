import * as cedar from '@cedar-policy/cedar-wasm/nodejs';
import type { Logger } from '../shared/logger';
import { describePosition, formatCedarError, type TextOrigin } from './cedar-error.formatter';
import { PolicyLoadError } from './policy.errors';
import { POLICY_ACTIONS, type PolicyAction } from './policy.types';
import type { PolicyFile, PolicySources } from './policy-files.loader';
import { actionScopeOf, type SlicedPolicy, sliceByAction } from './policy-slices';

/** Names under which Cedar holds the parsed schema and policy sets (`preparse*`), per action. */
export interface CompiledPolicySets {
  schemaName: string;
  /** The enforced policies that can apply to each action. */
  enforced: Record<PolicyAction, string>;
  /**
   * Enforced plus shadow policies that can apply to each action; null when no shadow policy can (the
   * shadow decision then equals the enforced one). The whole record is null without shadow policies.
   */
  shadow: Record<PolicyAction, string | null> | null;
}

interface ParsedPolicy extends SlicedPolicy {
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
  const hasActionGroups = declaresActionGroups(schema);
  const split = (file: PolicyFile) => splitPolicies(file, hasActionGroups);
  const enforced = sources.enforced.flatMap(split);
  const shadow = sources.shadow.flatMap(split);
  assertUniqueIds([...enforced, ...shadow]);
  validatePolicies(schema, [...enforced, ...shadow], logger);
  const schemaName = `grantline-schema-${sources.digest}`;
  preparse(cedar.preparseSchema(schemaName, schema), 'schema');
  return {
    schemaName,
    enforced: preparseEnforced(enforced, sources.digest),
    shadow: shadow.length > 0 ? preparseShadow(enforced, shadow, sources.digest) : null,
  };
}

function preparseEnforced(enforced: ParsedPolicy[], digest: string): Record<PolicyAction, string> {
  const slices = sliceByAction(enforced);
  const ids = {} as Record<PolicyAction, string>;
  for (const action of POLICY_ACTIONS) {
    ids[action] = `grantline-${digest}-enforced-${action}`;
    preparse(cedar.preparsePolicySet(ids[action], toPolicySet(slices[action])), `${action} policies`);
  }
  return ids;
}

function preparseShadow(enforced: ParsedPolicy[], shadow: ParsedPolicy[], digest: string) {
  const enforcedSlices = sliceByAction(enforced);
  const shadowSlices = sliceByAction(shadow);
  const ids = {} as Record<PolicyAction, string | null>;
  for (const action of POLICY_ACTIONS) {
    if (shadowSlices[action].length === 0) {
      ids[action] = null;
      continue;
    }
    const id = `grantline-${digest}-shadow-${action}`;
    const set = toPolicySet([...enforcedSlices[action], ...shadowSlices[action]]);
    preparse(cedar.preparsePolicySet(id, set), `${action} shadow policies`);
    ids[action] = id;
  }
  return ids;
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

function declaresActionGroups(schema: cedar.Schema): boolean {
  const answer =
    typeof schema === 'string' ? cedar.schemaToJson(schema) : { type: 'success' as const, json: schema };
  if (answer.type === 'failure') throwCedarErrors('invalid schema', answer.errors);
  return Object.values(answer.json).some((ns) =>
    Object.values(ns.actions).some((action) => (action.memberOf?.length ?? 0) > 0),
  );
}

function splitPolicies(file: PolicyFile, schemaHasActionGroups: boolean): ParsedPolicy[] {
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
    const json = policyJson(text, origin);
    return {
      id: annotationId(json, origin),
      actions: actionScopeOf(json, schemaHasActionGroups),
      text,
      origin,
    };
  });
}

function policyJson(text: string, origin: TextOrigin): cedar.PolicyJson {
  const answer = cedar.policyToJson(text);
  if (answer.type === 'failure') throwCedarErrors(`cannot parse ${origin.file}`, answer.errors, origin);
  return answer.json;
}

function annotationId(json: cedar.PolicyJson, origin: TextOrigin): string {
  const id = json.annotations?.id;
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
