import type { DelegationRequest, Grant, GrantRequest } from '@grantline/sdk';
import type { Command } from 'commander';
import { collect, parseCount, parseDuration } from '../cli-args';
import { out, outLines, printJson } from '../cli-output';
import {
  type ClientOptions,
  CliFailure,
  clientAction,
  withClient,
  withClientOptions,
} from '../client-options';
import { type GrantJson, renderGrant, renderOffer, renderRevoke } from '../grant-render';

export interface RequestGrantOptions extends ClientOptions {
  scope: string[];
  audience?: string;
  resource?: string[];
  ttl?: number;
  tool?: string;
  target?: string;
  intent?: string;
  quiet?: boolean;
}

export function grantRequestBody(o: RequestGrantOptions): GrantRequest {
  if ((o.audience === undefined) === (o.resource === undefined))
    throw new CliFailure('give either --audience or --resource (repeatable), not both');
  const context = Object.fromEntries(
    Object.entries({ tool: o.tool, target: o.target, intent: o.intent }).filter(([, v]) => v !== undefined),
  );
  return {
    scopes: o.scope,
    ...(o.audience !== undefined ? { audience: o.audience } : {}),
    ...(o.resource !== undefined ? { resource: o.resource } : {}),
    ...(o.ttl !== undefined ? { ttl: o.ttl } : {}),
    context,
  };
}

export interface DelegateOptions extends ClientOptions {
  to: string;
  scope: string[];
  ttl?: number;
  budget?: number;
  actions?: number;
  redelegate: boolean;
  quiet?: boolean;
}

export function delegationBody(o: DelegateOptions): DelegationRequest {
  return {
    to: o.to,
    scopes: o.scope,
    ...(o.ttl !== undefined ? { ttl: o.ttl } : {}),
    ...(o.budget !== undefined ? { budget: o.budget } : {}),
    ...(o.actions !== undefined ? { actions: o.actions } : {}),
    may_redelegate: o.redelegate,
  };
}

function printGrant(g: Grant, o: ClientOptions & { quiet?: boolean }): void {
  if (o.json || o.quiet) printJson(g);
  else outLines(renderGrant(g as unknown as GrantJson));
}

function registerRequest(grant: Command): void {
  withClientOptions(
    grant
      .command('request <task-id>')
      .description('request a grant in a task; prints the access token and the secrets')
      .requiredOption('--scope <scope>', 'a scope to grant (repeatable)', collect)
      .option('--audience <aud>', 'the resource server the access token is for')
      .option(
        '--resource <uri>',
        'an RFC 8707 resource the token is for, instead of --audience (repeatable)',
        collect,
      )
      .option(
        '--ttl <duration>',
        'grant lifetime, e.g. 5m (capped by the broker and the task)',
        parseDuration,
      )
      .option('--tool <name>', 'context: the tool that will use it')
      .option('--target <name>', 'context: what it will act on')
      .option('--intent <text>', 'context: why')
      .option('-q, --quiet', 'print only the JSON response'),
  ).action(
    clientAction(async (taskId: string, o: RequestGrantOptions) => {
      const body = grantRequestBody(o);
      printGrant(await withClient(o, (c) => c.grants.request(taskId, body)), o);
    }),
  );
}

function registerRevoke(grant: Command): void {
  withClientOptions(
    grant
      .command('revoke <grant-id>')
      .description('revoke a grant and its whole delegation subtree')
      .option('--reason <text>', 'why (recorded in the audit log)'),
  ).action(
    clientAction(async (grantId: string, o: ClientOptions & { reason?: string }) => {
      const r = await withClient(o, (c) => c.grants.revoke(grantId, o.reason));
      if (o.json) printJson(r);
      else outLines(renderRevoke(r));
    }),
  );
}

function registerDelegation(grant: Command): void {
  withClientOptions(
    grant
      .command('delegate <grant-id>')
      .description('offer a narrower grant to another workload; prints the single-use delegation token')
      .requiredOption('--to <spiffe-id>', 'the workload the offer is bound to')
      .requiredOption('--scope <scope>', 'a scope to delegate (repeatable)', collect)
      .option('--ttl <duration>', 'lifetime of the delegated grant, e.g. 5m', parseDuration)
      .option('--budget <n>', 'budget reserved for the delegate', parseCount)
      .option(
        '--actions <n>',
        'actions reserved for the delegate (default: it shares this grant\u2019s)',
        parseCount,
      )
      .option('--no-redelegate', 'forbid the delegate to delegate further')
      .option('-q, --quiet', 'print only the delegation token'),
  ).action(
    clientAction(async (grantId: string, o: DelegateOptions) => {
      const offer = await withClient(o, (c) => c.grants.delegate(grantId, delegationBody(o)));
      if (o.json) printJson(offer);
      else if (o.quiet) out(offer.delegation_token);
      else outLines(renderOffer(offer));
    }),
  );
  withClientOptions(
    grant
      .command('redeem <delegation-token>')
      .description('redeem a delegation offer with your own SVID (RFC 8693 token exchange)')
      .option('--scope <scope>', 'ask for fewer scopes than offered (repeatable)', collect)
      .option('--audience <aud>', 'narrow where the token is accepted (within the parent\u2019s audiences)')
      .option('--resource <uri>', 'an RFC 8707 resource within the parent\u2019s (repeatable)', collect)
      .option('-q, --quiet', 'print only the JSON response'),
  ).action(
    clientAction(async (token: string, o: RedeemOptions) => {
      const g = await withClient(o, (c) =>
        c.grants.redeem(token, {
          ...(o.scope ? { scopes: o.scope } : {}),
          ...(o.audience ? { audience: o.audience } : {}),
          ...(o.resource ? { resource: o.resource } : {}),
        }),
      );
      printGrant(g, o);
    }),
  );
}

interface RedeemOptions extends ClientOptions {
  scope?: string[];
  audience?: string;
  resource?: string[];
  quiet?: boolean;
}

/** `grantline grant request|revoke|delegate|redeem`. Actions are async: use parseAsync. */
export function registerGrantCommands(program: Command): void {
  const grant = program.command('grant').description('request, delegate, redeem and revoke grants');
  registerRequest(grant);
  registerRevoke(grant);
  registerDelegation(grant);
}
