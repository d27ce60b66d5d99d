import type { GrantRow, TaskRow } from '../../db/database';
import { InvalidRequest, InvalidTarget } from '../../shared/errors';

/**
 * Where a grant's token may be used (its `aud`): one logical `audience`, or RFC 8707 `resource`
 * indicators. Whatever is asked for must be among the task's declared audiences (a delegated grant: its
 * parent's), else `invalid_target` (RFC 8707 §2, RFC 8693 §2.2.2).
 */

const SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*:/;

/** RFC 8707 §2: an absolute URI (RFC 3986 §4.3), which may have a query but never a fragment. */
function requireResourceUri(resource: string): string {
  if (!SCHEME.test(resource) || !URL.canParse(resource))
    throw new InvalidTarget(`the resource ${resource} is not an absolute URI (RFC 8707 §2)`);
  if (resource.includes('#')) throw new InvalidTarget(`the resource ${resource} must not have a fragment`);
  return resource;
}

/** The audiences a direct grant request names: its `audience`, or each of its `resource`s, once each. */
export function requestedAudiences(input: { audience?: string; resource?: string[] }): string[] {
  if (input.resource) return [...new Set(input.resource.map(requireResourceUri))];
  if (input.audience) return [input.audience];
  throw new InvalidRequest('give either audience or resource (RFC 8707)');
}

/** Each audience must be one the task declared when it opened. */
export function requireTaskAudiences(task: Pick<TaskRow, 'audiences'>, audiences: string[]): void {
  const undeclared = audiences.filter((a) => !task.audiences.includes(a));
  if (undeclared.length)
    throw new InvalidTarget(`the audience ${undeclared.join(', ')} is not among the task's audiences`, {
      audiences: task.audiences,
    });
}

const asList = (v: string | string[] | undefined): string[] => (v === undefined ? [] : [v].flat());

/**
 * RFC 8693 §2.1: a token exchange may name `audience` and `resource` (each possibly repeated). The
 * child's token goes to what it names, all of it within the parent's audiences; naming nothing keeps
 * the parent's. A hop narrows where a token is accepted, it never widens it.
 */
export function exchangeAudiences(
  input: { audience?: string | string[]; resource?: string | string[] },
  parent: Pick<GrantRow, 'audiences'>,
): string[] {
  const asked = [...new Set([...asList(input.audience), ...asList(input.resource).map(requireResourceUri)])];
  if (asked.length === 0) return parent.audiences;
  const outside = asked.filter((a) => !parent.audiences.includes(a));
  if (outside.length)
    throw new InvalidTarget(`the audience must stay within ${parent.audiences.join(', ')}`, {
      audiences: parent.audiences,
    });
  return asked;
}

/** RFC 7519 §4.1.3: `aud` is a string for one audience, an array for several. */
export function audClaim(audiences: string[]): string | string[] {
  return audiences.length === 1 ? audiences[0]! : [...audiences];
}
